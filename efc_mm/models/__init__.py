"""Models: the EFC segmentor, its flow decoder, backbones, heads and losses."""
from .data_preprocessor import PairSegDataPreProcessor

__all__ = ['PairSegDataPreProcessor']
