"""Visualisation: Middlebury flow colours, occlusion maps, segmentation
overlays, keys (flow colour wheel, occlusion scale, class legend),
side-by-side panels (all BGR uint8 unless said otherwise) and the
mmengine visualizer that draws pair samples (RGB, as mmengine's)."""
from .flow_vis import (as_flow_hw2, flow_to_color, make_colorwheel,
                       occlusion_to_image)
from .keys import (class_legend, colorwheel_key, flow_key_strip,
                   flow_scale_label, nice_max_flow, occlusion_scale_strip)
from .local_visualizer import PairLocalVisualizer, pair_sample_to_maps
from .panel import (CITYSCAPES_PALETTE, add_title, footer_height,
                    get_palette, make_pair_panel, make_panel, overlay_seg,
                    seg_to_color, title_height)

__all__ = [
    'make_colorwheel', 'flow_to_color', 'occlusion_to_image', 'as_flow_hw2',
    'CITYSCAPES_PALETTE', 'get_palette', 'seg_to_color', 'overlay_seg',
    'add_title', 'make_panel', 'make_pair_panel', 'title_height',
    'footer_height', 'flow_scale_label', 'nice_max_flow', 'colorwheel_key',
    'flow_key_strip', 'occlusion_scale_strip', 'class_legend',
    'PairLocalVisualizer', 'pair_sample_to_maps'
]
