"""Flow decoders reading the shared encoder's features (EFC's flow branch)
and their blocks."""
from ...structures import flow_to_level_pixels, swap_pair
from .blocks import CostVolume, FlowPredictor, OcclusionHead
from .efc_flow_decoder import DEFAULT_FLOW_LOSSES, EFCFlowDecoder

__all__ = ['EFCFlowDecoder', 'DEFAULT_FLOW_LOSSES', 'CostVolume',
           'FlowPredictor', 'OcclusionHead', 'flow_to_level_pixels',
           'swap_pair']
