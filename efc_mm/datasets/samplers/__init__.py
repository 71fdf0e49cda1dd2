"""Data samplers (registered in mmseg's ``DATA_SAMPLERS``, where mmengine's
Runner builds ``sampler=dict(type=...)`` in scope ``mmseg``):
:class:`MultiSourceSampler` (a fixed number of samples of each source of a
:class:`~efc_mm.datasets.wrappers.MultiSourcePairDataset` in every batch).
"""
from .multi_source import MultiSourceSampler

__all__ = ['MultiSourceSampler']
