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

Our choices where the paper is silent (each a constructor argument) are
listed in :mod:`.blocks`, with the blocks they concern.

The blocks (cost volume, predictors, occlusion heads) are in
:mod:`.blocks`; the losses the decoder owns are modules of
:mod:`efc_mm.models.losses` that read the batch's
:class:`~efc_mm.structures.PairContext`.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from ...registry import MODELS
from ..losses.occlusion_loss import OcclusionLoss
from ..losses.utils import build_loss_list, sum_losses
from .blocks import (CostVolume, FlowPredictor, OcclusionHead, conv_act,
                     match_size, select_levels)

__all__ = ['EFCFlowDecoder', 'DEFAULT_FLOW_LOSSES']

#: the flow losses of a decoder built without ``losses`` (each default lives
#: in the loss class's signature; these only name the types)
DEFAULT_FLOW_LOSSES = dict(
    photometric=dict(type='PhotometricLoss'),
    smoothness=dict(type='SmoothnessLoss'),
    occlusion=dict(type='OcclusionLoss'))


@MODELS.register_module()
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
            Default True (efc_mm; the paper: False, heads on the flow
            blocks).
        frozen (bool): no parameter of the decoder trains (TCC_fix: a fixed
            pretrained flow network, loaded with ``init_cfg=dict(
            type='PretrainedPart', checkpoint=..., prefix='flow_decoder.')``);
            then ``losses`` must be empty. Default False.
        losses (dict | list | None): the flow-only losses the decoder owns,
            as mmflow's decoders do: ``{term: loss dict | None}`` (or a list),
            by default ``photometric`` (L_pm, eq. 5-6), ``smoothness`` (L_sm,
            eq. 7) and ``occlusion`` (L_occ, eq. 4). A row removes one with
            ``losses=dict(occlusion=None)``; without an ``OcclusionLoss``
            the occlusion heads are not trained and nothing may use O_est.
            Losses that train the segmentation (L_cons) belong to the
            segmentor's ``losses``.
        init_cfg: mmengine init config.

    :meth:`loss_by_feat` sums the losses on the batch's
    :class:`~efc_mm.structures.PairContext`.

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
                 detach_occ_features: bool = True,
                 frozen: bool = False,
                 losses=DEFAULT_FLOW_LOSSES,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self._check_levels(list(in_channels), list(in_index),
                           list(in_strides), min_stride, flow_scale)
        self.flow_scale = flow_scale
        self.cost_volume = CostVolume(self.in_channels[-1], corr_channels,
                                      max_displacement, dilation_patch,
                                      redir_channels, fuse_channels)
        self.contract = nn.ModuleList()
        prev = fuse_channels
        for ch in contract_channels:
            self.contract.append(nn.Sequential(
                conv_act(prev, ch, 3, stride=2), conv_act(ch, ch, 3)))
            prev = ch
        top = self.in_strides[-1] * 2**len(contract_channels)
        self.strides = [top // 2**k for k in range(top.bit_length())
                        if top // 2**k >= min_stride]
        self._build_expanding(prev, fuse_channels, list(contract_channels),
                              skip_channels, deconv_channels,
                              occ_mid_channels)
        self._kaiming_init()
        self.detach_occ_features = detach_occ_features
        self.frozen = frozen
        self.losses = build_loss_list(losses, MODELS, 'EFCFlowDecoder')
        self._check_losses()
        if frozen:
            for p in self.parameters():
                p.requires_grad_(False)

    def _check_levels(self, in_channels, in_index, in_strides, min_stride,
                      flow_scale) -> None:
        """Validate the pyramid arguments (clear errors naming them)."""
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
        if flow_scale != 'stride' and not isinstance(flow_scale, (int, float)):
            raise ValueError(f"flow_scale must be 'stride' or a number, got "
                             f'{flow_scale!r}')
        self.in_channels, self.in_index = in_channels, in_index
        self.in_strides, self.min_stride = in_strides, min_stride

    def _build_expanding(self, feat_ch, fuse_ch, contract_ch, skip_ch,
                         deconv_channels, occ_mid_channels) -> None:
        """Skip reductions, deconvolutions, predictors and occlusion heads,
        coarse to fine."""
        n_trans = len(self.strides) - 1
        if isinstance(deconv_channels, int):
            deconv_channels = [deconv_channels] * n_trans
        if len(deconv_channels) != n_trans:
            raise ValueError(f'deconv_channels needs {n_trans} entries (one '
                             f'per transition of strides {self.strides}), got '
                             f'{len(deconv_channels)}')
        # reduced encoder skips (frame 1), keyed by position in in_index
        self.skip_reduce = nn.ModuleDict()
        for pos, (ch, st) in enumerate(zip(self.in_channels, self.in_strides)):
            if pos < len(self.in_index) - 1 and st >= self.min_stride:
                self.skip_reduce[str(pos)] = conv_act(ch, skip_ch, 1)
        self.deconvs = nn.ModuleList()
        self.predictors = nn.ModuleList()
        self.occ_heads = nn.ModuleList()
        for lvl, st in enumerate(self.strides):
            if lvl > 0:
                dch = deconv_channels[lvl - 1]
                self.deconvs.append(conv_act(feat_ch, dch, deconv=True))
                feat_ch = dch + 2 + self._skip_channels(st, fuse_ch,
                                                        contract_ch, skip_ch)
            self.predictors.append(FlowPredictor(feat_ch))
            self.occ_heads.append(OcclusionHead(feat_ch, occ_mid_channels))

    def _check_losses(self) -> None:
        """Refuse, at build time, losses the decoder cannot own."""
        for mod in self.losses:
            if set(mod.READS) - {'flow', 'occ'}:
                raise ValueError(
                    f'EFCFlowDecoder.losses: {type(mod).__name__} trains the '
                    "segmentation; put it in the segmentor's losses")
            mod.weights_for(len(self.strides))  # a level_weights length error
        if self.frozen and len(self.losses):
            raise ValueError(
                'EFCFlowDecoder: frozen=True trains nothing, but losses '
                f'{[m.loss_name for m in self.losses]} are set: make them '
                'None')

    @property
    def with_occlusion(self) -> bool:
        """True if the occlusion heads are trained (an ``OcclusionLoss``) or
        fixed pretrained ones (``frozen``): ``O_est`` is usable."""
        return self.frozen or any(isinstance(m, OcclusionLoss)
                                  for m in self.losses)

    def train(self, mode: bool = True):
        """A frozen decoder stays in eval mode."""
        return super().train(mode and not self.frozen)

    def _kaiming_init(self) -> None:
        """Kaiming-normal init (LeakyReLU 0.1, fan in) of every hidden conv
        and deconv, as FlowNet; PyTorch's default init shrinks activations at
        every layer, which starves the flow predictors (flow stays ~0).
        Predictors and the occlusion heads' last convs keep their near-zero
        init."""
        keep = {m.conv for m in self.predictors}
        keep |= {m.conv2 for m in self.occ_heads}
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

    def _select(self, feats: Sequence[Tensor], name: str) -> List[Tensor]:
        """Pick ``in_index`` levels (:func:`.blocks.select_levels`)."""
        return select_levels(feats, self.in_index, self.in_channels,
                             self.in_strides, name)

    def _encode(self, f1s, f2s) -> Dict[int, List[Tensor]]:
        """Skips by stride: reduced frame-1 levels, the fused cost volume
        and the contracting outputs; the coarsest output under key 0."""
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
        by_stride[0] = [x]
        return by_stride

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
        by_stride = self._encode(f1s, f2s)
        flows, occs = [], []
        feat, flow = by_stride[0][0], None
        for lvl, st in enumerate(self.strides):
            if lvl > 0:
                skips = by_stride.get(st, [])
                size = (skips[0].shape[-2:] if skips else
                        (feat.shape[-2] * 2, feat.shape[-1] * 2))
                up_feat = match_size(self.deconvs[lvl - 1](feat), size)
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

    def loss_by_feat(self, ctx) -> Dict[str, Tensor]:
        """The decoder's flow losses (EFC eq. 4-7) on the batch's
        :class:`~efc_mm.structures.PairContext`, whose ``flow_out`` is
        :meth:`forward` run on both orderings of the pairs: ``{loss_name:
        value}``, each summed over levels and directions; a loss whose
        scheduled weight is 0 is left out."""
        return sum_losses(self.losses, ctx)
