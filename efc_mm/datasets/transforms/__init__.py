"""Pair transforms (registered in mmseg's TRANSFORMS).

Results-dict keys of a pair are documented in :mod:`.loading`: ``img`` is
frame i and ``img2`` frame i+t; ``gt_seg_map`` / ``gt_seg_map2`` their
labels (all 255 when unlabelled); optional ``gt_flow_fw/bw``,
``gt_valid_fw/bw``, ``gt_occ_fw/bw``.
"""
from .formatting import PackPairInputs
from .loading import (FLOW_KEYS, IMG_KEYS, OCC_KEYS, SEG_KEYS, VALID_KEYS,
                      LoadPairAnnotations, LoadPairFromFile, load_flow,
                      load_image, load_seg_map)
from .pair_transforms import (PairPhotoMetricDistortion, PairRandomCrop,
                              PairRandomFlip, PairRandomResize,
                              PairRandomRotate, PairResize, resize_pair,
                              rotate_pair, rotation_matrix)

__all__ = [
    'LoadPairFromFile', 'LoadPairAnnotations', 'PairResize',
    'PairRandomResize', 'PairRandomCrop', 'PairRandomRotate',
    'PairRandomFlip', 'PairPhotoMetricDistortion', 'PackPairInputs',
    'load_image', 'load_seg_map', 'load_flow', 'resize_pair', 'rotate_pair',
    'rotation_matrix', 'IMG_KEYS', 'SEG_KEYS', 'FLOW_KEYS', 'VALID_KEYS',
    'OCC_KEYS'
]
