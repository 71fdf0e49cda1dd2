"""Visualisation: Middlebury flow colours, occlusion maps, segmentation
overlays and side-by-side panels (all BGR uint8 unless said otherwise)."""
from .flow_vis import (as_flow_hw2, flow_to_color, make_colorwheel,
                       occlusion_to_image)
from .panel import (CITYSCAPES_PALETTE, add_title, get_palette,
                    make_pair_panel, make_panel, overlay_seg, seg_to_color)

__all__ = [
    'make_colorwheel', 'flow_to_color', 'occlusion_to_image', 'as_flow_hw2',
    'CITYSCAPES_PALETTE', 'get_palette', 'seg_to_color', 'overlay_seg',
    'add_title', 'make_panel', 'make_pair_panel'
]
