"""Dataset wrappers: :class:`MultiSourcePairDataset` (N sources behind one
index space, for :class:`~efc_mm.datasets.samplers.MultiSourceSampler`)."""
from .multi_source import MultiSourcePairDataset

__all__ = ['MultiSourcePairDataset']
