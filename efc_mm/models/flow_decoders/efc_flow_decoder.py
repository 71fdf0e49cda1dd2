"""EFC's flow branch: a FlowNet-C style decoder on the shared encoder's pyramid.

Ding et al., "Every Frame Counts", AAAI 2020, Sec. "Network architecture":
the flow network shares the segmentation encoder; a correlation layer
(FlowNet-C, Dosovitskiy et al. ICCV 2015, eq. 1) combines the two frames'
features, a FlowNet-S style coarse-to-fine decoder (deconvolution + skip
features + upsampled flow) predicts flow at several scales, and an occlusion
head on every flow block (two 3x3 convs, 32 then 1 channels, sigmoid) gives
``O_est`` in [0, 1] (1 = occluded).

Units (read this before using the outputs)
------------------------------------------
Every flow returned by :class:`EFCFlowDecoder` is expressed **in pixels of the
network input** (the image the shared encoder saw), whatever the resolution
of the level it is given at; channel 0 = u (x), 1 = v (y). Upsampling a flow
therefore never rescales its values, and to warp a map of a level's size use
:func:`flow_to_level_pixels` first.

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
  LeakyReLU(0.1).
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from ...ops.correlation import correlation
from ...ops import warp
from ...registry import FLOW_MODELS, MODELS
from ..losses.photometric_loss import seg_occlusion_error

__all__ = ['EFCFlowDecoder', 'OcclusionHead', 'flow_to_level_pixels',
           'swap_pair']

#: the paper's unsupervised flow losses (EFC eq. 4-7); each default lives in
#: the loss class's signature, these only name the type.
_DEFAULT_PM = dict(type='PhotometricLoss')
_DEFAULT_SM = dict(type='SmoothnessLoss')
_DEFAULT_OCC = dict(type='OcclusionLoss')


def swap_pair(x: Tensor) -> Tensor:
    """``[a; b] -> [b; a]`` along the batch: the EFC segmentor stacks all
    frames i, then all frames i+t, so this maps every item to its partner."""
    half = x.shape[0] // 2
    return torch.cat([x[half:], x[:half]], dim=0)


def _resize(x: Tensor, size: Sequence[int], mode: str = 'bilinear') -> Tensor:
    """Resize ``(N, C, h, w)`` to ``size`` (no-op when equal); ``'area'``
    for images going down, bilinear otherwise."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode == 'area':
        return F.interpolate(x, size=tuple(size), mode='area')
    return F.interpolate(x, size=tuple(size), mode=mode, align_corners=False)


def flow_to_level_pixels(flow: Tensor, input_size: Sequence[int]) -> Tensor:
    """Convert a flow in input-image pixels to pixels of its own grid.

    Args:
        flow (Tensor): ``(N, 2, h, w)`` flow in pixels of an input of size
            ``input_size``, sampled on an ``h x w`` grid.
        input_size (tuple[int, int]): ``(H, W)`` of the network input.

    Returns:
        Tensor: ``(N, 2, h, w)``; u scaled by ``w / W``, v by ``h / H``.
    """
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f'flow must be (N, 2, h, w), got {tuple(flow.shape)}')
    h, w = flow.shape[-2:]
    scale = flow.new_tensor([w / input_size[1], h / input_size[0]])
    return flow * scale.view(1, 2, 1, 1)


def _conv(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    """Conv + LeakyReLU(0.1), FlowNet style (no normalisation)."""
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2),
        nn.LeakyReLU(0.1, inplace=True))


def _match_size(x: Tensor, size: Sequence[int]) -> Tensor:
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
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 3, padding=1)
        self.act = nn.LeakyReLU(0.1, inplace=True)
        self.conv2 = nn.Conv2d(mid_channels, 1, 3, padding=1)
        nn.init.normal_(self.conv2.weight, std=1e-3)
        nn.init.constant_(self.conv2.bias, init_bias)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C, h, w) -> (N, 1, h, w)`` occlusion probability."""
        return torch.sigmoid(self.conv2(self.act(self.conv1(x))))


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


class CostVolume(nn.Module):
    """FlowNet-C fusion block at the deepest shared level.

    ``corr = LeakyReLU(correlation(P f1, P f2) / C)`` over a
    ``(2 d + 1)^2`` displacement window (FlowNet eq. 1, mmcv semantics),
    concatenated with a 1x1-reduced copy of frame-1 features
    (``conv_redir``), fused by a 3x3 conv (FlowNet-C ``conv3_1``).

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
        self.proj = (_conv(in_channels, corr_channels, 1)
                     if corr_channels else nn.Identity())
        self.redir = _conv(in_channels, redir_channels, 1)
        patch = (2 * max_displacement + 1)**2
        self.fuse = _conv(patch + redir_channels, out_channels, 3)

    def forward(self, f1: Tensor, f2: Tensor) -> Tensor:
        p1, p2 = self.proj(f1), self.proj(f2)
        corr = correlation(p1, p2, kernel_size=1,
                           max_displacement=self.max_displacement,
                           dilation_patch=self.dilation_patch)
        n, _, _, h, w = corr.shape
        corr = F.leaky_relu(corr.view(n, -1, h, w) / p1.shape[1], 0.1)
        return self.fuse(torch.cat([corr, self.redir(f1)], dim=1))


@MODELS.register_module()
@FLOW_MODELS.register_module()
class EFCFlowDecoder(BaseModule):
    """FlowNet-C/S style flow + occlusion decoder on a shared encoder pyramid.

    Pipeline (EFC Sec. "Network architecture"; FlowNet, ICCV 2015, Fig. 2-3):

    1. pick levels ``in_index`` of the shared encoder's pyramid (fine to
       coarse, strides ``in_strides``); the last one is the correlation
       level;
    2. :class:`CostVolume` at the correlation level (stride ``s_c``);
    3. contracting part: ``len(contract_channels)`` blocks of
       (3x3 stride-2 conv, 3x3 conv), strides ``2 s_c, 4 s_c, ...``;
    4. expanding part, coarse to fine down to stride ``min_stride``: at each
       level the block features are
       ``cat(skips, deconv(prev features), up(prev flow))`` (nothing but the
       contracting output at the coarsest level), then
       ``flow = up(prev flow) + flow_scale * FlowPredictor(features)`` and
       ``occ = OcclusionHead(features)``. Skips at stride ``s`` are the
       1x1-reduced frame-1 encoder levels of that stride, the contracting
       output of that stride, and the fused cost volume at ``s_c``.

    Args:
        in_channels (Sequence[int]): channels of the selected levels.
        in_index (Sequence[int]): indices of the selected levels in the list
            of shared-encoder levels given to :meth:`forward`.
        in_strides (Sequence[int]): strides of the selected levels w.r.t. the
            input, non-decreasing; the last is the correlation level.
        corr_channels (int | None): see :class:`CostVolume`. Default 256.
        max_displacement (int): correlation window radius. Default 10.
        dilation_patch (int): correlation displacement step. Default 2
            (mmflow FlowNet-C: +-20 px at the correlation level).
        redir_channels (int): Default 32.
        fuse_channels (int): width after the cost volume. Default 256.
        contract_channels (Sequence[int]): width of each contracting level.
            Default (512, 512).
        skip_channels (int): width of each reduced encoder skip. Default 64.
        deconv_channels (int | Sequence[int]): deconvolution width per
            transition (coarse to fine). Default (256, 128, 64).
        min_stride (int): stride of the finest output. Default 4.
        occ_mid_channels (int): occlusion head width. Default 32 (paper).
        flow_scale (float | 'stride'): multiplier of each predictor output
            (see the module notes). Default 1.0; 20 is FlowNet's flow/20
            output scaling.
        detach_occ_features (bool): the occlusion heads read the flow
            blocks' features detached, so L_occ and the ``-G O_est`` term
            train the occlusion heads only and cannot slow the flow down.
            Default False (paper: heads on the flow blocks).
        frozen (bool): no parameter of the decoder trains (TCC_fix: a fixed
            pretrained flow network, loaded with ``init_cfg=dict(
            type='PretrainedPart', checkpoint=..., prefix='flow_decoder.')``);
            then every flow loss must be None. Default False.
        loss_photometric (dict | None): L_pm (eq. 5-6), e.g.
            ``dict(type='PhotometricLoss')``; None: no photometric loss.
        loss_smoothness (dict | None): L_sm (eq. 7); None: none.
        loss_occlusion (dict | None): L_occ (eq. 4); None: the occlusion
            heads are not trained (and nothing may use ``O_est``).
        init_cfg: mmengine init config.

    The decoder owns its unsupervised losses, as mmflow's decoders do:
    :meth:`loss_by_feat` computes them from :meth:`forward`'s output.

    Forward returns ``dict(flows=[...], occlusions=[...], strides=[...])``,
    lists **coarse to fine**: flows ``(N, 2, h_l, w_l)`` in input pixels,
    occlusions ``(N, 1, h_l, w_l)`` in [0, 1].
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 256, 512, 1024),
                 in_index: Sequence[int] = (0, 1, 2, 3),
                 in_strides: Sequence[int] = (2, 4, 8, 8),
                 corr_channels: Optional[int] = 256,
                 max_displacement: int = 10,
                 dilation_patch: int = 2,
                 redir_channels: int = 32,
                 fuse_channels: int = 256,
                 contract_channels: Sequence[int] = (512, 512),
                 skip_channels: int = 64,
                 deconv_channels=(256, 128, 64),
                 min_stride: int = 4,
                 occ_mid_channels: int = 32,
                 flow_scale=1.0,
                 detach_occ_features: bool = False,
                 frozen: bool = False,
                 loss_photometric: Optional[dict] = _DEFAULT_PM,
                 loss_smoothness: Optional[dict] = _DEFAULT_SM,
                 loss_occlusion: Optional[dict] = _DEFAULT_OCC,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels, in_index = list(in_channels), list(in_index)
        in_strides = list(in_strides)
        if not (len(in_channels) == len(in_index) == len(in_strides)) or \
                not in_index:
            raise ValueError(
                'EFCFlowDecoder: in_channels, in_index and in_strides must be '
                f'non-empty and of equal length, got {len(in_channels)}, '
                f'{len(in_index)} and {len(in_strides)}')
        if any(b < a for a, b in zip(in_strides, in_strides[1:])):
            raise ValueError(f'in_strides must be non-decreasing (fine to '
                             f'coarse), got {in_strides}')
        corr_stride = in_strides[-1]
        if min_stride > corr_stride or corr_stride % min_stride:
            raise ValueError(f'min_stride={min_stride} must divide the '
                             f'correlation stride {corr_stride}')
        self.in_channels, self.in_index = in_channels, in_index
        self.in_strides = in_strides
        self.min_stride = min_stride
        if flow_scale != 'stride' and not isinstance(flow_scale, (int, float)):
            raise ValueError(f"flow_scale must be 'stride' or a number, got "
                             f'{flow_scale!r}')
        self.flow_scale = flow_scale

        # 2. cost volume
        self.cost_volume = CostVolume(in_channels[-1], corr_channels,
                                      max_displacement, dilation_patch,
                                      redir_channels, fuse_channels)
        # 3. contracting part
        self.contract = nn.ModuleList()
        prev = fuse_channels
        for ch in contract_channels:
            self.contract.append(
                nn.Sequential(_conv(prev, ch, 3, stride=2), _conv(ch, ch, 3)))
            prev = ch
        # 4. expanding part: strides coarse to fine
        top = corr_stride * 2**len(contract_channels)
        strides, s = [], top
        while s >= min_stride:
            strides.append(s)
            s //= 2
        self.strides = strides
        n_trans = len(strides) - 1
        if isinstance(deconv_channels, int):
            deconv_channels = [deconv_channels] * n_trans
        if len(deconv_channels) != n_trans:
            raise ValueError(f'deconv_channels needs {n_trans} entries (one '
                             f'per transition of strides {strides}), got '
                             f'{len(deconv_channels)}')
        # reduced encoder skips (frame 1), keyed by position in in_index
        self.skip_reduce = nn.ModuleDict()
        for pos, (ch, st) in enumerate(zip(in_channels, in_strides)):
            if pos == len(in_index) - 1 or st < min_stride:
                continue  # corr level enters through the cost volume
            self.skip_reduce[str(pos)] = _conv(ch, skip_channels, 1)
        self.deconvs = nn.ModuleList()
        self.predictors = nn.ModuleList()
        self.occ_heads = nn.ModuleList()
        feat_ch = prev  # coarsest block: contracting output (or fused corr)
        for lvl, st in enumerate(strides):
            if lvl > 0:
                dch = deconv_channels[lvl - 1]
                self.deconvs.append(nn.Sequential(
                    nn.ConvTranspose2d(feat_ch, dch, 4, stride=2, padding=1),
                    nn.LeakyReLU(0.1, inplace=True)))
                feat_ch = dch + 2 + self._skip_channels(
                    st, fuse_channels, contract_channels, skip_channels)
            self.predictors.append(FlowPredictor(feat_ch))
            self.occ_heads.append(OcclusionHead(feat_ch, occ_mid_channels))
        self._kaiming_init()
        self.detach_occ_features = detach_occ_features
        self.frozen = frozen
        self._build_losses(loss_photometric, loss_smoothness, loss_occlusion)
        if frozen:
            for p in self.parameters():
                p.requires_grad_(False)

    def _build_losses(self, pm, sm, occ) -> None:
        """Build the loss modules and refuse combinations that cannot work
        (raised at build time, naming the keys)."""
        self.loss_photometric = MODELS.build(pm) if pm else None
        self.loss_smoothness = MODELS.build(sm) if sm else None
        self.loss_occlusion = MODELS.build(occ) if occ else None
        n = len(self.strides)
        for key in ('loss_photometric', 'loss_smoothness', 'loss_occlusion'):
            mod = getattr(self, key)
            if mod is not None:
                mod.weights_for(n)  # raises on a level_weights length error
        if self.frozen and self.flow_losses:
            raise ValueError(
                'EFCFlowDecoder: frozen=True trains nothing, but '
                f'{[k for k, _ in self.flow_losses]} are set: make them None')
        pm_obj = self.loss_photometric
        if pm_obj is not None and pm_obj.occlusion_weighting and \
                self.loss_occlusion is None:
            raise ValueError(
                'EFCFlowDecoder: loss_photometric.occlusion_weighting=True '
                'uses O_est, but loss_occlusion is None (untrained, the '
                '-G O_est term would push O_est to 1): set loss_occlusion, or '
                'loss_photometric.occlusion_weighting=False')

    @property
    def flow_losses(self) -> list:
        """``[(attribute name, module)]`` of the losses that are set."""
        return [(k, getattr(self, k)) for k in
                ('loss_photometric', 'loss_smoothness', 'loss_occlusion')
                if getattr(self, k) is not None]

    @property
    def with_occlusion(self) -> bool:
        """True if the occlusion heads are trained (``O_est`` usable)."""
        return self.loss_occlusion is not None or self.frozen

    def train(self, mode: bool = True):
        """A frozen decoder stays in eval mode."""
        return super().train(mode and not self.frozen)

    def _kaiming_init(self) -> None:
        """Kaiming-normal init (LeakyReLU 0.1) of every hidden conv and
        deconv, as FlowNet; PyTorch's default init shrinks activations at
        every layer, which starves the flow predictors (flow stays ~0).
        Predictors and the occlusion heads' last convs keep their near-zero
        init."""
        keep = set()
        for m in list(self.predictors) + list(self.occ_heads):
            keep.add(m.conv if isinstance(m, FlowPredictor) else m.conv2)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m not in keep:
                nn.init.kaiming_normal_(m.weight, a=0.1, mode='fan_in',
                                        nonlinearity='leaky_relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _scale(self, stride: int) -> float:
        """Multiplier of a level's predictor output (see ``flow_scale``)."""
        if self.flow_scale == 'stride':
            return float(stride)
        return float(self.flow_scale)

    def _skip_channels(self, stride, fuse_ch, contract_ch, skip_ch) -> int:
        """Channels of the skip features concatenated at ``stride``."""
        n = sum(1 for pos, st in enumerate(self.in_strides)
                if str(pos) in self.skip_reduce and st == stride) * skip_ch
        corr_stride = self.in_strides[-1]
        if stride == corr_stride:
            n += fuse_ch
        for i, ch in enumerate(contract_ch):
            if stride == corr_stride * 2**(i + 1) and stride != self.strides[0]:
                n += ch
        return n

    # ------------------------------------------------------------------
    def _select(self, feats: Sequence[Tensor], name: str) -> List[Tensor]:
        """Pick ``in_index`` levels, with clear errors on a bad pyramid."""
        if isinstance(feats, Tensor) or not isinstance(feats, (list, tuple)):
            raise ValueError(f'{name} must be a list/tuple of feature maps '
                             '(the shared encoder pyramid, fine to coarse)')
        out = []
        for pos, idx in enumerate(self.in_index):
            if not -len(feats) <= idx < len(feats):
                raise ValueError(
                    f'EFCFlowDecoder asks for encoder level {idx} '
                    f'(in_index={self.in_index}) but the shared encoder '
                    f'gives only {len(feats)} levels; fix in_index or '
                    'the segmentor\'s shared_stages')
            f = feats[idx]
            if f.dim() != 4 or f.shape[1] != self.in_channels[pos]:
                raise ValueError(
                    f'{name}[{idx}] has shape {tuple(f.shape)}, expected '
                    f'{self.in_channels[pos]} channels (in_channels[{pos}])')
            out.append(f)
        # strides consistent with the actual sizes (tolerate conv rounding)
        h0 = out[0].shape[-2] * self.in_strides[0]
        for pos, f in enumerate(out):
            expect = h0 / self.in_strides[pos]
            if abs(f.shape[-2] - expect) > max(2, 0.05 * expect):
                raise ValueError(
                    f'{name} level {self.in_index[pos]} has height '
                    f'{f.shape[-2]}, inconsistent with in_strides='
                    f'{self.in_strides} (expected about {expect:.0f})')
        return out

    def forward(self, feats1: Sequence[Tensor],
                feats2: Sequence[Tensor]) -> Dict[str, List]:
        """Flow from frame 1 to frame 2 (and occlusion of frame-1 pixels).

        Run on ``(cat(f1, f2), cat(f2, f1))`` to get forward and backward flow
        in one call (the segmentor does).

        Args:
            feats1, feats2: shared-encoder pyramids of the two frames, lists
                of ``(N, C_l, H_l, W_l)``, fine to coarse, same shapes.

        Returns:
            dict: ``flows``, ``occlusions`` (coarse to fine, see class doc),
            ``strides``.
        """
        f1s, f2s = self._select(feats1, 'feats1'), self._select(feats2, 'feats2')
        for a, b, idx in zip(f1s, f2s, self.in_index):
            if a.shape != b.shape:
                raise ValueError(
                    f'pair features differ at encoder level {idx}: '
                    f'{tuple(a.shape)} vs {tuple(b.shape)} (both frames must '
                    'have the same size)')
        corr_stride = self.in_strides[-1]
        by_stride: Dict[int, List[Tensor]] = {}
        for pos, f in enumerate(f1s):
            if str(pos) in self.skip_reduce:
                by_stride.setdefault(self.in_strides[pos], []).append(
                    self.skip_reduce[str(pos)](f))
        x = self.cost_volume(f1s[-1], f2s[-1])
        by_stride.setdefault(corr_stride, []).append(x)
        for i, block in enumerate(self.contract):
            x = block(x)
            if i < len(self.contract) - 1:
                by_stride.setdefault(corr_stride * 2**(i + 1), []).append(x)
        flows, occs = [], []
        feat, flow = x, None
        for lvl, st in enumerate(self.strides):
            if lvl > 0:
                skips = by_stride.get(st, [])
                size = (skips[0].shape[-2:] if skips else
                        (feat.shape[-2] * 2, feat.shape[-1] * 2))
                up_feat = _match_size(self.deconvs[lvl - 1](feat), size)
                # flows are in input pixels: upsampling needs no rescale
                up_flow = F.interpolate(flow, size=tuple(size),
                                        mode='bilinear', align_corners=False)
                feat = torch.cat(skips + [up_feat, up_flow], dim=1)
                flow = up_flow + self.predictors[lvl](feat) * self._scale(st)
            else:
                flow = self.predictors[lvl](feat) * self._scale(st)
            flows.append(flow)
            occs.append(self.occ_heads[lvl](
                feat.detach() if self.detach_occ_features else feat))
        return dict(flows=flows, occlusions=occs, strides=list(self.strides))

    # ------------------------------------------------------------------
    # losses (EFC eq. 4-7), owned by the decoder as in mmflow
    # ------------------------------------------------------------------
    def loss_by_feat(self, out: Dict[str, List[Tensor]], imgs: Tensor,
                     seg_logits: Optional[Tensor] = None,
                     terms: Optional[list] = None) -> Dict[str, Tensor]:
        """Unsupervised flow losses of both directions.

        Args:
            out (dict): :meth:`forward` run on ``(cat(f_i, f_{i+t}),
                cat(f_{i+t}, f_i))``: the first half of the batch are the
                forward flows, the second half the backward flows.
            imgs (Tensor): ``(2B, 3, H, W)`` the frames in [0, 1], in the same
                order (all frames i, then all frames i+t).
            seg_logits (Tensor, optional): ``(2B, K, h, w)`` segmentation
                logits of the frames (for ``O_error``, eq. 5); needed when
                ``loss_photometric.seg_error`` is True, else ignored.
            terms (list, optional): if given, every unweighted-by-level term
                is appended as ``(loss_name, level, direction, value)`` so
                that a caller can name a term that went NaN.

        Returns:
            dict[str, Tensor]: ``loss_pm``, ``loss_sm``, ``loss_occ`` (the
            names of the configured modules), each summed over levels and
            directions; a loss whose scheduled weight is 0 is left out.
        """
        flows, occs = out['flows'], out['occlusions']
        size_in = imgs.shape[-2:]
        half = imgs.shape[0] // 2
        dirs = (('fw', slice(0, half)), ('bw', slice(half, 2 * half)))
        pm = self.loss_photometric if (self.loss_photometric is not None and
                                       self.loss_photometric.active) else None
        sm = self.loss_smoothness if (self.loss_smoothness is not None and
                                      self.loss_smoothness.active) else None
        oc = self.loss_occlusion if (self.loss_occlusion is not None and
                                     self.loss_occlusion.active) else None
        n = len(flows)
        losses: Dict[str, Tensor] = {}

        def add(mod, value, lvl, d):
            if terms is not None:
                terms.append((mod.loss_name, lvl, d, value.detach()))
            losses[mod.loss_name] = losses.get(mod.loss_name, 0) + value

        use_oe = pm is not None and pm.seg_error
        if use_oe and seg_logits is None:
            raise ValueError('loss_photometric.seg_error=True needs the '
                             'segmentation logits (seg_logits)')
        use_occ = pm is not None and pm.occlusion_weighting
        w_pm = pm.weights_for(n) if pm is not None else [0.0] * n
        w_sm = sm.weights_for(n) if sm is not None else [0.0] * n
        w_oc = oc.weights_for(n) if oc is not None else [0.0] * n
        for lvl in range(n):
            if not (w_pm[lvl] or w_sm[lvl] or w_oc[lvl]):
                continue
            flow_in = flows[lvl]  # input pixels, level grid
            flow_lvl = flow_to_level_pixels(flow_in, size_in)
            occ = occs[lvl]
            if w_oc[lvl]:  # eq. 4, target from the opposite flow
                tgt = oc.make_target(swap_pair(flow_lvl).detach())
                for d, s in dirs:
                    add(oc, w_oc[lvl] * oc(occ[s], tgt[s]), lvl, d)
            if w_pm[lvl]:
                if pm.resolution == 'input':
                    flow_pm, img = _resize(flow_in, size_in), imgs
                else:
                    flow_pm = flow_lvl
                    img = _resize(imgs, flow_lvl.shape[-2:], 'area')
                size = flow_pm.shape[-2:]
                img_w, valid = warp(swap_pair(img), flow_pm)
                o_est = _resize(occ, size) if use_occ else None
                o_err = None
                if use_oe:  # eq. 5: O_seg from argmax disagreement
                    seg = _resize(seg_logits.detach(), size)
                    seg_w, _ = warp(swap_pair(seg), flow_pm.detach())
                    o_err = seg_occlusion_error(
                        seg, seg_w, o_est.detach() if o_est is not None else
                        flow_pm.new_zeros(flow_pm.shape[0], 1, *size), valid)
                for d, s in dirs:
                    add(pm, w_pm[lvl] * pm(
                        img[s], img_w[s], None if o_est is None else o_est[s],
                        None if o_err is None else o_err[s], valid[s]),
                        lvl, d)
            if w_sm[lvl]:
                if sm.resolution == 'input':
                    flow_sm, img = _resize(flow_in, size_in), imgs
                else:
                    flow_sm = flow_lvl
                    img = _resize(imgs, flow_lvl.shape[-2:], 'area')
                for d, s in dirs:
                    add(sm, w_sm[lvl] * sm(flow_sm[s], img[s]), lvl, d)
        return losses

    def loss(self, feats1: Sequence[Tensor], feats2: Sequence[Tensor],
             imgs: Tensor, seg_logits: Optional[Tensor] = None):
        """:meth:`forward` then :meth:`loss_by_feat`; returns
        ``(losses, out)``."""
        out = self(feats1, feats2)
        return self.loss_by_feat(out, imgs, seg_logits), out
