"""Training-time additions: hooks."""
from .hooks import PairVisualizationHook

__all__ = ['PairVisualizationHook']
