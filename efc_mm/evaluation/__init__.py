"""Evaluation: pair metrics (flow EPE / Fl, temporal consistency, pair mIoU)
and the pure metric functions they share (:mod:`.functional`)."""
from . import functional
from .metrics import EFCFlowMetric, PairIoUMetric, TemporalConsistencyMetric

__all__ = [
    'functional', 'EFCFlowMetric', 'PairIoUMetric',
    'TemporalConsistencyMetric'
]
