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
converted file (``pretrained=PATH``, as mmseg's ResNet; ``pretrained=None``
on the segmentor switches it off).

CPU speed: PyTorch's (2.13) oneDNN convolution backward is pathologically
slow for fc6's ``4096 x 512 x 7 x 7`` dilated kernel: one Dilation10 training
step on a 128 x 128 crop took 489 s, 99 % of it in that backward, against
9.9 s with fc6 computed 1024 output channels at a time (2048 channels: 4.5 s
for fc6 alone, 4096: over 200 s). On the CPU fc6 is therefore computed in
chunks of ``fc6_cpu_chunk`` output channels: same parameters, same result
(up to float summation order); GPUs run one call. ``bench/dilation_step.py``
measures it.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from ...registry import MODELS
from .staged import StagedBackboneMixin, pretrained_init_cfg

__all__ = ['DilatedVGG16', 'ChunkedConv2d']


class ChunkedConv2d(nn.Conv2d):
    """:class:`torch.nn.Conv2d` that, on the CPU, computes its output
    channels ``out_chunk`` at a time and concatenates them.

    Each output channel of a (``groups=1``) convolution depends only on its
    own filter, so the result is that of one call (up to float summation
    order in the input gradient); parameters and state-dict keys are those
    of ``nn.Conv2d``. Used for fc6, whose one-call oneDNN backward is
    pathologically slow on the CPU (see the module docstring).

    Args:
        *args, **kwargs: :class:`torch.nn.Conv2d` arguments.
        out_chunk (int | None): output channels per call on the CPU;
            None = one call (plain ``nn.Conv2d``).
    """

    def __init__(self, *args, out_chunk: Optional[int] = 1024,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if out_chunk is not None and out_chunk < 1:
            raise ValueError(f'out_chunk must be >= 1 or None, got '
                             f'{out_chunk}')
        if self.groups != 1 or self.padding_mode != 'zeros':
            raise ValueError('ChunkedConv2d supports groups=1 and '
                             "padding_mode='zeros' only")
        self.out_chunk = out_chunk

    def forward(self, x: Tensor) -> Tensor:
        """Convolve ``x``; on the CPU in chunks of output channels."""
        c = self.out_chunk
        if c is None or x.device.type != 'cpu' or self.out_channels <= c:
            return super().forward(x)
        # split, not slices: its backward concatenates the weight-gradient
        # chunks once instead of allocating a zero-filled full-size
        # gradient per chunk (4 x 411 MB for fc6)
        weights = self.weight.split(c)
        biases = ([None] * len(weights) if self.bias is None else
                  self.bias.split(c))
        outs = [
            F.conv2d(x, w, b, stride=self.stride, padding=self.padding,
                     dilation=self.dilation)
            for w, b in zip(weights, biases)
        ]
        return torch.cat(outs, dim=1)


@MODELS.register_module()
class DilatedVGG16(StagedBackboneMixin, BaseModule):
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
        fc6_cpu_chunk (int | None): on the CPU, compute fc6 this many output
            channels at a time (:class:`ChunkedConv2d`); None = one call.
            Default 1024.
        pretrained (str | None): checkpoint of converted ImageNet weights
            (shorthand for ``init_cfg=dict(type='Pretrained',
            checkpoint=...)``, as mmseg's ResNet; the segmentor's
            ``pretrained`` sets it). Default None.
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
                 fc6_cpu_chunk: Optional[int] = 1024,
                 pretrained: Optional[str] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=pretrained_init_cfg(
            'DilatedVGG16', pretrained, init_cfg, type_error=TypeError))
        self.pretrained = pretrained
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
            ChunkedConv2d(prev, fc_channels, 7, padding=12, dilation=4,
                          out_chunk=fc6_cpu_chunk),  # fc6
            nn.ReLU(inplace=True), nn.Dropout2d(dropout),
            nn.Conv2d(fc_channels, fc_channels, 1),  # fc7
            nn.ReLU(inplace=True), nn.Dropout2d(dropout))
        self.stage_channels = tuple(widths) + (fc_channels, )
