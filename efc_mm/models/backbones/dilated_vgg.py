"""The VGG-16 "front end" of Yu & Koltun's Dilation networks.

F. Yu and V. Koltun, "Multi-Scale Context Aggregation by Dilated
Convolutions", ICLR 2016, Sec. 4 ("Front end"): VGG-16 with the last two
pooling and striding layers (pool4, pool5) removed; the convolutions that
followed them are dilated by 2 (conv5) and 4 (fc6, a 7x7 convolution, the
convolutionalised fully connected layer); fc7 is a 1x1 convolution. Output
stride 8. EFC (Ding et al., AAAI 2020) uses it for Dilation8 (CamVid) and
Dilation10 (Cityscapes) and shares the blocks up to conv4 with the flow
branch.

Differences from the Caffe original (fyu/dilation), our choices: "same"
zero padding instead of the original's unpadded convolutions on a
reflection-padded input (so that mmseg's crop / slide inference works
unchanged); dropout after fc6 and fc7 is kept (p = 0.5 by default).

ImageNet weights: the original front ends were initialised from the Caffe
VGG-16 ILSVRC model (Simonyan & Zisserman); torchvision's
``vgg16(weights=IMAGENET1K_V1)`` converts one-to-one (conv layers by order,
``classifier.0`` reshaped to ``4096 x 512 x 7 x 7`` for fc6, ``classifier.3``
to ``4096 x 4096 x 1 x 1`` for fc7); configs point ``init_cfg`` at such a
converted file.
"""
from typing import List, Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from ...registry import MODELS

__all__ = ['DilatedVGG16']


@MODELS.register_module()
class DilatedVGG16(BaseModule):
    """VGG-16 Dilation front end (Yu & Koltun 2016, Sec. 4), output stride 8.

    Stages (``stage_names``; strides 2, 4, 8, 8, 8, 8):

    =====  =============================================  =======
    stage  layers                                         stride
    =====  =============================================  =======
    conv1  2 x (3x3 conv 64, ReLU), max-pool 2            2
    conv2  2 x (3x3 conv 128, ReLU), max-pool 2           4
    conv3  3 x (3x3 conv 256, ReLU), max-pool 2           8
    conv4  3 x (3x3 conv 512, ReLU)  (pool4 removed)      8
    conv5  3 x (3x3 conv 512, dilation 2, ReLU)  (no pool5) 8
    fc     fc6 7x7 conv 4096 dilation 4, ReLU, dropout;   8
           fc7 1x1 conv 4096, ReLU, dropout
    =====  =============================================  =======

    Implements the staged-backbone protocol the EFC segmentor uses to split
    a backbone into shared encoder and segmentation tail:
    ``stage_names``, ``forward_stage(i, x)``, ``stage_out_index(i)``.

    Args:
        in_channels (int): image channels. Default 3.
        widths (Sequence[int]): widths of conv1..conv5. Default VGG-16.
        fc_channels (int): width of fc6 / fc7. Default 4096.
        out_indices (Sequence[int]): stages whose outputs are returned
            (indices into ``stage_names``). Default ``(5,)`` (fc7).
        dropout (float): dropout after fc6 and fc7. Default 0.5.
        init_cfg: mmengine init config (e.g. a Pretrained checkpoint).
    """

    stage_names = ('conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc')
    stage_strides = (2, 4, 8, 8, 8, 8)

    def __init__(self,
                 in_channels: int = 3,
                 widths: Sequence[int] = (64, 128, 256, 512, 512),
                 fc_channels: int = 4096,
                 out_indices: Sequence[int] = (5, ),
                 dropout: float = 0.5,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(widths) != 5:
            raise ValueError(f'widths needs 5 entries (conv1..conv5), got '
                             f'{list(widths)}')
        for i in out_indices:
            if not 0 <= i < len(self.stage_names):
                raise ValueError(f'out_indices entry {i} outside stages '
                                 f'{self.stage_names}')
        self.out_indices = tuple(out_indices)
        self.in_channels = in_channels
        # (number of convs, dilation, pooled) per conv block
        spec = [(2, 1, True), (2, 1, True), (3, 1, True), (3, 1, False),
                (3, 2, False)]
        prev = in_channels
        for name, width, (n, dil, pool) in zip(self.stage_names, widths, spec):
            layers: List[nn.Module] = []
            for _ in range(n):
                layers += [nn.Conv2d(prev, width, 3, padding=dil,
                                     dilation=dil), nn.ReLU(inplace=True)]
                prev = width
            if pool:
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            self.add_module(name, nn.Sequential(*layers))
        self.fc = nn.Sequential(
            nn.Conv2d(prev, fc_channels, 7, padding=12, dilation=4),  # fc6
            nn.ReLU(inplace=True), nn.Dropout2d(dropout),
            nn.Conv2d(fc_channels, fc_channels, 1),  # fc7
            nn.ReLU(inplace=True), nn.Dropout2d(dropout))
        self.stage_channels = tuple(widths) + (fc_channels, )

    def forward_stage(self, index: int, x: Tensor) -> Tensor:
        """Run stage ``index`` (of ``stage_names``) on ``x``."""
        return getattr(self, self.stage_names[index])(x)

    def stage_out_index(self, index: int):
        """Position of stage ``index`` in the output tuple, or None."""
        return (self.out_indices.index(index)
                if index in self.out_indices else None)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """``(N, 3, H, W)`` -> tuple of the ``out_indices`` stage outputs."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'DilatedVGG16 expects (N, {self.in_channels}, '
                             f'H, W) images, got {tuple(x.shape)}')
        outs = []
        for i in range(len(self.stage_names)):
            x = self.forward_stage(i, x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
