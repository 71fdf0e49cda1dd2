"""Data structures shared by datasets, transforms, the model and metrics:
the pair sample, the pair layout helpers and the per-batch pair context the
EFC losses read."""
from .pair_context import (PairContext, directions, flow_to_level_pixels,
                           frames_to_pair, pair_to_frames, resize_map,
                           swap_pair)
from .pair_data_sample import PairDataSample, split_pair_samples

__all__ = [
    'PairDataSample', 'split_pair_samples', 'PairContext', 'swap_pair',
    'pair_to_frames', 'frames_to_pair', 'flow_to_level_pixels', 'resize_map',
    'directions'
]
