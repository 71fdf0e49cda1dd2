"""efc_mm metrics (registered in mmseg's METRICS; the flow metric also in
mmflow's): ``EFCFlowMetric``, ``TemporalConsistencyMetric``,
``PairIoUMetric``."""
from .flow_metric import EFCFlowMetric
from .pair_iou_metric import PairIoUMetric
from .temporal_consistency import TemporalConsistencyMetric

__all__ = ['EFCFlowMetric', 'PairIoUMetric', 'TemporalConsistencyMetric']
