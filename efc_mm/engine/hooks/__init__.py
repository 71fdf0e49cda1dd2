"""Hooks (registered in mmseg's HOOKS)."""
from .pair_visualization_hook import PairVisualizationHook
from .results_writer_hook import PredictionWriterHook
from .seg_visualization_hook import PairSegVisualizationHook

__all__ = ['PairVisualizationHook', 'PairSegVisualizationHook',
           'PredictionWriterHook']
