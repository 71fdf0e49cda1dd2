"""FlowNet-C correlation (cost volume) with mmcv's semantics.

The implementation lives in :mod:`efc_mm.compat` (it doubles as the
``mmcv.ops.Correlation`` stand-in on mmcv-lite); this module re-exports it so
that efc_mm code can write ``from efc_mm.ops import correlation``. The banded
batched-matmul implementation there is the fast one (see
``bench/correlation.py`` and ``bench/README.md``); there is no separate
variant.
"""
from ..compat import Correlation, correlation

__all__ = ['Correlation', 'correlation']
