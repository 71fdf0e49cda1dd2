"""Hooks (registered in mmseg's HOOKS)."""
from .pair_visualization_hook import PairVisualizationHook

__all__ = ['PairVisualizationHook']
