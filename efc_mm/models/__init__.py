"""Models: the EFC segmentor, its flow decoder, backbones, heads and losses.

Importing registers everything into mmseg's MODELS (and the flow decoder
also into mmflow's MODELS); see :mod:`efc_mm.registry`.
"""
from . import losses  # noqa: F401  (registered before anything builds them)
from . import weight_init  # noqa: F401
from .backbones import DilatedVGG16
from .data_preprocessor import PairSegDataPreProcessor
from .decode_heads import ContextModuleHead
from .flow_decoders import EFCFlowDecoder
from .segmentors import EFCSegmentor

__all__ = [
    'PairSegDataPreProcessor', 'EFCSegmentor', 'EFCFlowDecoder',
    'DilatedVGG16', 'ContextModuleHead'
]
