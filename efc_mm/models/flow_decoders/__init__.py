"""Flow decoders reading the shared encoder's features (EFC's flow branch)."""
from .efc_flow_decoder import (EFCFlowDecoder, OcclusionHead,
                               flow_to_level_pixels, swap_pair)

__all__ = ['EFCFlowDecoder', 'OcclusionHead', 'flow_to_level_pixels', 'swap_pair']
