"""Training / testing additions: hooks."""
from .hooks import (PairSegVisualizationHook, PairVisualizationHook,
                    PredictionWriterHook)

__all__ = ['PairVisualizationHook', 'PairSegVisualizationHook',
           'PredictionWriterHook']
