"""Data structures shared by datasets, transforms, the model and metrics."""
from .pair_data_sample import PairDataSample, split_pair_samples

__all__ = ['PairDataSample', 'split_pair_samples']
