"""Building blocks of EFC's flow decoder, one job each.

* :func:`conv_act`: conv + LeakyReLU(0.1), FlowNet style (no normalisation),
  as an mmcv :class:`~mmcv.cnn.ConvModule`;
* :class:`CostVolume`: the FlowNet-C correlation block (FlowNet, Dosovitskiy
  et al., ICCV 2015, eq. 1) with its projection and frame-1 redirection;
* :class:`FlowPredictor`: the per-level 2-channel flow head;
* :class:`OcclusionHead`: EFC's occlusion head of one flow block (Ding et
  al., AAAI 2020: two 3x3 convs, 32 then 1 channels, sigmoid);
* :func:`match_size`: crop / pad a deconvolution output to its skip's size;
* :func:`select_levels`: pick and check the decoder's encoder levels.

Our choices where the paper is silent (each is a constructor argument):

* the correlation is computed on a shared 1x1 projection of the deepest
  selected encoder level (``corr_channels``), as FlowNet-C computes it on its
  256-channel conv3, normalised by the number of channels and followed by a
  LeakyReLU(0.1); the projection keeps the cost independent of the encoder
  width (ResNet layer 3 has 1024 channels);
* skip features (frame 1 only, as in FlowNet-C) are reduced by 1x1 convs to
  ``skip_channels`` each, so that a ResNet encoder does not blow up the
  decoder width;
* each level predicts a residual on the bilinearly upsampled coarser flow
  (PWC-Net style; FlowNet-S predicts the absolute flow from the same inputs),
  which trains faster without supervision; the predictor's output is
  multiplied by ``flow_scale`` (1 by default: SGD at the paper's lr 0.01 is
  stable; ``'stride'`` = predict in pixels of the level, PWC-Net-like, which
  suits Adam but diverged with SGD 0.01 in our checks);
* hidden convolutions are Kaiming-initialised (FlowNet); with PyTorch's
  default init the activations shrink layer by layer and the flow never
  leaves 0 in the overfit test;
* convolutions carry no normalisation (FlowNet style), activation
  LeakyReLU(0.1) (mmcv ``ConvModule``);
* the occlusion heads read the flow blocks' features detached by default
  (``detach_occ_features``): L_occ and ``-G O_est`` then train the heads
  only; with them attached, flow started moving ~180 iterations later in
  the quick start.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import Tensor

from ...ops.correlation import correlation

__all__ = ['conv_act', 'CostVolume', 'FlowPredictor', 'OcclusionHead',
           'match_size', 'compiled_correlation', 'select_levels']

_ACT = dict(type='LeakyReLU', negative_slope=0.1, inplace=True)


def conv_act(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1,
             deconv: bool = False) -> ConvModule:
    """Conv (or 4x4 stride-2 deconvolution) + LeakyReLU(0.1), no norm."""
    if deconv:
        return ConvModule(in_ch, out_ch, 4, stride=2, padding=1,
                          conv_cfg=dict(type='deconv'), norm_cfg=None,
                          act_cfg=_ACT)
    return ConvModule(in_ch, out_ch, kernel, stride=stride,
                      padding=kernel // 2, norm_cfg=None, act_cfg=_ACT)


def match_size(x: Tensor, size: Sequence[int]) -> Tensor:
    """Crop or replicate-pad ``x`` (N, C, h, w) to ``size`` (deconvolution
    outputs are ``2 h``; the skip of an odd-sized level is ``2 h - 1``)."""
    h, w = x.shape[-2:]
    th, tw = int(size[0]), int(size[1])
    if (h, w) == (th, tw):
        return x
    x = x[..., :th, :tw]
    ph, pw = th - x.shape[-2], tw - x.shape[-1]
    if ph > 0 or pw > 0:
        x = F.pad(x, (0, pw, 0, ph), mode='replicate')
    return x


def compiled_correlation() -> bool:
    """True when full mmcv's compiled ``Correlation`` op is importable (it
    has CUDA kernels only; mmcv-lite has none)."""
    from ...compat import MMCV_OPS_IS_STANDIN
    if MMCV_OPS_IS_STANDIN:
        return False
    try:
        from mmcv.ops import Correlation  # noqa: F401
    except ImportError:
        return False
    return True


class CostVolume(nn.Module):
    """FlowNet-C fusion block at the deepest shared level.

    ``corr = LeakyReLU(correlation(P f1, P f2) / C)`` over a
    ``(2 d + 1)^2`` displacement window (FlowNet eq. 1, mmcv semantics),
    concatenated with a 1x1-reduced copy of frame-1 features
    (``redir``), fused by a 3x3 conv (FlowNet-C ``conv3_1``).

    The correlation is mmflow's ``CorrBlock`` (mmcv's compiled
    ``Correlation``) for CUDA tensors when full mmcv is installed, else the
    pure-PyTorch banded correlation of :mod:`efc_mm.ops.correlation` (CPU,
    mmcv-lite); both compute the same cost volume (tested).

    Args:
        in_channels (int): channels of the encoder level.
        corr_channels (int | None): width of the shared 1x1 projection ``P``
            before correlating; None correlates the raw features.
        max_displacement (int), dilation_patch (int): correlation window;
            the displacement range is ``max_displacement * dilation_patch``
            pixels of this level.
        redir_channels (int): width of the frame-1 copy (32 in FlowNet-C).
        out_channels (int): width of the fused features.
    """

    def __init__(self, in_channels: int, corr_channels: Optional[int],
                 max_displacement: int, dilation_patch: int,
                 redir_channels: int, out_channels: int) -> None:
        super().__init__()
        self.max_displacement = max_displacement
        self.dilation_patch = dilation_patch
        self.proj = (conv_act(in_channels, corr_channels, 1)
                     if corr_channels else nn.Identity())
        self.redir = conv_act(in_channels, redir_channels, 1)
        patch = (2 * max_displacement + 1)**2
        self.fuse = conv_act(patch + redir_channels, out_channels, 3)
        self._corr_block = None  # mmflow CorrBlock, built on first CUDA use

    def corr_block(self):
        """mmflow's ``CorrBlock`` with this window (scaled by ``C``,
        LeakyReLU 0.1), built once; it holds no parameters."""
        if self._corr_block is None:
            from mmflow.models.utils import CorrBlock
            self._corr_block = CorrBlock(
                corr_cfg=dict(type='Correlation', _scope_='mmflow',
                              kernel_size=1,
                              max_displacement=self.max_displacement,
                              stride=1, padding=0,
                              dilation_patch=self.dilation_patch),
                act_cfg=dict(type='LeakyReLU', negative_slope=0.1),
                scaled=True, scale_mode='dimension')
        return self._corr_block

    def cost(self, p1: Tensor, p2: Tensor, backend: str = 'auto') -> Tensor:
        """``(N, (2d+1)^2, H, W)`` activated, scaled cost volume.

        Args:
            backend (str): ``'auto'`` (CorrBlock for CUDA tensors with full
                mmcv, else PyTorch), ``'mmflow'`` or ``'torch'``.
        """
        if backend == 'auto':
            backend = ('mmflow' if p1.is_cuda and compiled_correlation()
                       else 'torch')
        if backend == 'mmflow':
            return self.corr_block()(p1, p2)
        if backend != 'torch':
            raise ValueError(f"backend must be 'auto', 'mmflow' or 'torch', "
                             f'got {backend!r}')
        corr = correlation(p1, p2, kernel_size=1,
                           max_displacement=self.max_displacement,
                           dilation_patch=self.dilation_patch)
        n, _, _, h, w = corr.shape
        return F.leaky_relu(corr.view(n, -1, h, w) / p1.shape[1], 0.1)

    def forward(self, f1: Tensor, f2: Tensor) -> Tensor:
        corr = self.cost(self.proj(f1), self.proj(f2))
        return self.fuse(torch.cat([corr, self.redir(f1)], dim=1))


class FlowPredictor(nn.Module):
    """3x3 conv predicting a 2-channel flow (in input pixels) from features;
    initialised near zero so that training starts from ``flow ~ 0``."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 2, 3, padding=1)
        nn.init.normal_(self.conv.weight, std=1e-3)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class OcclusionHead(nn.Module):
    """Occlusion head of one flow block (EFC, eq. 3-4 use its output O_est).

    3x3 conv to ``mid_channels`` (32 in the paper), LeakyReLU, 3x3 conv to 1,
    sigmoid: ``O_est`` in [0, 1], 1 = occluded.

    Args:
        in_channels (int): channels of the flow block's features.
        mid_channels (int): hidden width. Default 32 (paper).
        init_bias (float): bias of the last conv; ``-2`` starts at
            ``O_est ~ 0.12`` (most pixels visible), our choice.
    """

    def __init__(self, in_channels: int, mid_channels: int = 32,
                 init_bias: float = -2.0) -> None:
        super().__init__()
        self.conv1 = conv_act(in_channels, mid_channels, 3)
        self.conv2 = nn.Conv2d(mid_channels, 1, 3, padding=1)
        nn.init.normal_(self.conv2.weight, std=1e-3)
        nn.init.constant_(self.conv2.bias, init_bias)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C, h, w) -> (N, 1, h, w)`` occlusion probability."""
        return torch.sigmoid(self.conv2(self.conv1(x)))


def select_levels(feats: Sequence[Tensor], in_index: Sequence[int],
                  in_channels: Sequence[int], in_strides: Sequence[int],
                  name: str) -> List[Tensor]:
    """Pick levels ``in_index`` of a shared-encoder pyramid (fine to
    coarse), with clear errors on a bad pyramid: missing level, wrong
    channels, or sizes inconsistent with ``in_strides``."""
    if isinstance(feats, Tensor) or not isinstance(feats, (list, tuple)):
        raise ValueError(f'{name} must be a list/tuple of feature maps '
                         '(the shared encoder pyramid, fine to coarse)')
    out = []
    for pos, idx in enumerate(in_index):
        if not -len(feats) <= idx < len(feats):
            raise ValueError(
                f'EFCFlowDecoder asks for encoder level {idx} '
                f'(in_index={list(in_index)}) but the shared encoder gives '
                f"only {len(feats)} levels; fix in_index or the segmentor's "
                'shared_stages')
        f = feats[idx]
        if f.dim() != 4 or f.shape[1] != in_channels[pos]:
            raise ValueError(
                f'{name}[{idx}] has shape {tuple(f.shape)}, expected '
                f'{in_channels[pos]} channels (in_channels[{pos}])')
        out.append(f)
    h0 = out[0].shape[-2] * in_strides[0]  # tolerate conv rounding
    for pos, f in enumerate(out):
        expect = h0 / in_strides[pos]
        if abs(f.shape[-2] - expect) > max(2, 0.05 * expect):
            raise ValueError(
                f'{name} level {in_index[pos]} has height {f.shape[-2]}, '
                f'inconsistent with in_strides={list(in_strides)} (expected '
                f'about {expect:.0f})')
    return out
