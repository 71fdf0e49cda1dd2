"""Differentiable operators of EFC: warp, range-map occlusion, per-pixel
SSIM and the FlowNet-C correlation (cost volume)."""
from .correlation import Correlation, correlation
from .range_map import RANGE_MAP_THRESHOLD, occlusion_from_range_map, range_map
from .ssim import ssim
from .warp import check_flow, warp

__all__ = [
    'warp', 'check_flow', 'range_map', 'occlusion_from_range_map',
    'RANGE_MAP_THRESHOLD', 'ssim', 'correlation', 'Correlation'
]
