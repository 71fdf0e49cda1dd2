"""Yu & Koltun's context module as an mmseg decode head.

F. Yu and V. Koltun, "Multi-Scale Context Aggregation by Dilated
Convolutions", ICLR 2016, Sec. 3 and Table 1. The *basic* context module has
7 layers of 3x3 convolutions with dilations 1, 1, 2, 4, 8, 16, 1 (receptive
field 67x67), each followed by a ReLU, and a final 1x1 convolution; every
layer keeps C channels (C = number of classes in the paper, applied to the
front end's class scores) and is initialised to the identity (Sec. 3,
"identity initialization"). The *large* module widens the layers to
2C, 2C, 4C, 8C, 16C, 32C, 32C.

Dilation8 (CamVid) = front end + the 8-layer module above. Dilation10
(Cityscapes; Yu & Koltun Sec. 5, "Cityscapes": the input is larger, so the
context module has two more layers, dilations 32 and 64; fyu/dilation's
``cityscapes`` model: ctx_conv1_1 .. ctx_conv7_1, ctx_fc1, ctx_final)
has 3x3 dilations 1, 1, 2, 4, 8, 16, 32, 64, 1 and the final 1x1: 10 layers.
"""
from typing import Sequence

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from ...registry import MODELS

__all__ = ['ContextModuleHead', 'DILATION8_DILATIONS', 'DILATION10_DILATIONS']

#: Yu & Koltun Table 1, layers 1-7 (layer 8 = the 1x1 classifier).
DILATION8_DILATIONS = (1, 1, 2, 4, 8, 16, 1)
#: Dilation10 for Cityscapes: two more layers, dilations 32 and 64.
DILATION10_DILATIONS = (1, 1, 2, 4, 8, 16, 32, 64, 1)


@MODELS.register_module()
class ContextModuleHead(BaseDecodeHead):
    """Front-end classifier + Yu & Koltun context module + 1x1 classifier.

    ``in_channels`` (fc7, 4096) -> 1x1 conv "front-end score" to
    ``channels`` (C) -> ReLU -> context layers (3x3, ``dilations``, widths
    ``C * width_multipliers``, ReLU each) -> ``conv_seg`` (1x1, the module's
    last layer) to ``num_classes``.

    Args:
        dilations (Sequence[int]): dilation of each 3x3 context layer.
            Default :data:`DILATION8_DILATIONS`.
        width_multipliers (Sequence[int] | None): per-layer width as a
            multiple of ``channels``; None = basic module (all 1);
            ``(2, 2, 4, 8, 16, 32, 32)`` = large module.
        identity_init (bool): initialise every square context layer as the
            identity (Yu & Koltun Sec. 3). Default True.
        **kwargs: :class:`BaseDecodeHead` arguments (``in_channels``,
            ``channels`` = C, ``num_classes``, ``dropout_ratio``, ...).
    """

    def __init__(self,
                 dilations: Sequence[int] = DILATION8_DILATIONS,
                 width_multipliers=None,
                 identity_init: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if width_multipliers is None:
            width_multipliers = [1] * len(dilations)
        if len(width_multipliers) != len(dilations):
            raise ValueError('width_multipliers needs one entry per dilation '
                             f'({len(dilations)}), got {len(width_multipliers)}')
        self.dilations = tuple(dilations)
        self.identity_init = identity_init
        self.score = nn.Sequential(
            nn.Conv2d(self.in_channels, self.channels, 1), nn.ReLU(inplace=True))
        layers = []
        prev = self.channels
        for d, m in zip(dilations, width_multipliers):
            width = self.channels * m
            layers += [nn.Conv2d(prev, width, 3, padding=d, dilation=d),
                       nn.ReLU(inplace=True)]
            prev = width
        self.context = nn.Sequential(*layers)
        if prev != self.channels:  # large module: conv_seg reads `prev`
            self.conv_seg = nn.Conv2d(prev, self.out_channels, 1)

    def init_weights(self) -> None:
        """Default init, then identity init of the square context layers."""
        super().init_weights()
        if not self.identity_init:
            return
        for m in self.context:
            if isinstance(m, nn.Conv2d) and m.in_channels == m.out_channels:
                with torch.no_grad():
                    m.weight.zero_()
                    idx = torch.arange(m.out_channels)
                    m.weight[idx, idx, 1, 1] = 1.0
                    m.bias.zero_()

    def forward(self, inputs):
        """Multi-level features -> ``(N, num_classes, H/8, W/8)`` logits."""
        x = self._transform_inputs(inputs)
        return self.cls_seg(self.context(self.score(x)))
