"""The EFC segmentor and the backbone splitter it uses."""
from .efc_segmentor import EFCSegmentor
from .staged_backbone import StagedBackbone

__all__ = ['EFCSegmentor', 'StagedBackbone']
