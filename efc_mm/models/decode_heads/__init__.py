"""Decode heads: the Dilation context module."""
from .context_module_head import ContextModuleHead

__all__ = ['ContextModuleHead']
