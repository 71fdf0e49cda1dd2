"""Models: the EFC segmentor, its flow decoder, backbones, heads and losses.

Importing registers everything into mmseg's MODELS (and the flow decoder
also into mmflow's MODELS); see :mod:`efc_mm.registry`.
"""
from .backbones import DilatedVGG16
from .data_preprocessor import PairSegDataPreProcessor
from .decode_heads import ContextModuleHead
from .flow_decoders import EFCFlowDecoder
from .segmentors import EFCSegmentor

try:  # the EFC losses (efc_mm/models/losses, written alongside)
    from . import losses  # noqa: F401
except ImportError as exc:  # pragma: no cover - only while it is missing
    if 'losses' not in str(exc):
        raise

__all__ = [
    'PairSegDataPreProcessor', 'EFCSegmentor', 'EFCFlowDecoder',
    'DilatedVGG16', 'ContextModuleHead'
]
