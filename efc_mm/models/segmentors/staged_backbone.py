"""Run a segmentation backbone stage by stage (shared encoder + tail split).

EFC (Ding et al., AAAI 2020, Sec. "Network architecture") shares the early
stages of the segmentation backbone with the flow branch: ResNet stem +
layers 1-3, or the Dilation VGG-16 front end up to conv4. The backbone's own
``forward`` is what single-image inference runs (untouched, so ``predict`` is
bit-identical to mmseg's ``EncoderDecoder``); training splits the same
modules into stages with :class:`StagedBackbone`, which reproduces
``backbone(x)`` exactly (a test checks ``torch.equal``).

Supported backbones:

* mmseg :class:`~mmseg.models.backbones.ResNet` and subclasses
  (``ResNetV1c``, ``ResNetV1d``): stages ``stem`` (stride 2, before the max
  pool), ``layer1`` (max pool + res layer 1) ... ``layer4``;
* anything implementing the staged protocol: attributes ``stage_names``,
  methods ``forward_stage(i, x)`` and ``stage_out_index(i)`` (e.g.
  :class:`~efc_mm.models.backbones.DilatedVGG16`,
  :class:`~efc_mm.models.backbones.EfficientNetLite`).
"""
from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from mmseg.models.backbones import ResNet
from torch import Tensor

__all__ = ['StagedBackbone', 'DEFAULT_SHARED_STAGE']

#: the paper's shared encoder per backbone family (last shared stage); a
#: staged backbone class listed by name overrides its family's entry
#: (EfficientNetLite: block5, its last stride-16 stage, as ResNet's layer3)
DEFAULT_SHARED_STAGE = {'resnet': 'layer3', 'staged': 'conv4',
                        'EfficientNetLite': 'block5'}


class StagedBackbone:
    """Stage-by-stage view of a backbone module (holds no parameters).

    Args:
        backbone (nn.Module): the segmentor's backbone.

    Raises:
        TypeError: if the backbone is neither an mmseg ResNet nor implements
            the staged protocol.
    """

    def __init__(self, backbone: nn.Module) -> None:
        self.backbone = backbone
        if isinstance(backbone, ResNet):
            self.family = 'resnet'
            self.names: Tuple[str, ...] = ('stem', ) + tuple(
                backbone.res_layers)
        elif all(hasattr(backbone, a) for a in
                 ('stage_names', 'forward_stage', 'stage_out_index')):
            self.family = 'staged'
            self.names = tuple(backbone.stage_names)
        else:
            raise TypeError(
                f'EFCSegmentor cannot split {type(backbone).__name__} into a '
                'shared encoder and a tail: use an mmseg ResNet, or give the '
                'backbone stage_names / forward_stage(i, x) / '
                'stage_out_index(i) (see DilatedVGG16)')

    def index(self, name: Optional[str]) -> int:
        """Index of stage ``name`` (None: the paper's default)."""
        if name is None:
            name = DEFAULT_SHARED_STAGE.get(type(self.backbone).__name__,
                                            DEFAULT_SHARED_STAGE[self.family])
        if name not in self.names:
            raise ValueError(f'shared_stages={name!r} is not a stage of '
                             f'{type(self.backbone).__name__}; stages: '
                             f'{self.names}')
        return self.names.index(name)

    def forward_stage(self, i: int, x: Tensor) -> Tensor:
        """Run stage ``i`` on ``x``."""
        bb = self.backbone
        if self.family == 'staged':
            return bb.forward_stage(i, x)
        if i == 0:
            if bb.deep_stem:
                return bb.stem(x)
            return bb.relu(bb.norm1(bb.conv1(x)))
        if i == 1:
            x = bb.maxpool(x)
        return getattr(bb, self.names[i])(x)

    def out_position(self, i: int) -> Optional[int]:
        """Position of stage ``i``'s output in ``backbone(x)``, or None."""
        if self.family == 'staged':
            return self.backbone.stage_out_index(i)
        out_indices = tuple(self.backbone.out_indices)
        return out_indices.index(i - 1) if i >= 1 and (
            i - 1) in out_indices else None

    def run(self, x: Tensor, start: int, stop: int) -> List[Tensor]:
        """Outputs of stages ``start .. stop - 1`` (``x`` = input of
        ``start``)."""
        outs = []
        for i in range(start, stop):
            x = self.forward_stage(i, x)
            outs.append(x)
        return outs

    def assemble(self, stage_outs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """``backbone(x)``'s tuple from all stage outputs."""
        picked = {}
        for i, y in enumerate(stage_outs):
            pos = self.out_position(i)
            if pos is not None:
                picked[pos] = y
        return tuple(picked[k] for k in sorted(picked))
