"""EFCSegmentor: joint video segmentation and unsupervised optical flow.

Ding, Wang, Zhou, Shi, Lu, Luo, "Every Frame Counts: Joint Learning of Video
Segmentation and Optical Flow", AAAI 2020 (spec: ``shared/EFC_METHOD.md``).

A subclass of mmseg's :class:`EncoderDecoder`: single-image ``predict``,
``extract_feat``, ``encode_decode``, ``slide_inference`` are inherited
untouched, so inference costs exactly what the plain segmentor costs and
gives bit-identical outputs for the same weights. Training on pairs adds the
flow branch (:class:`~efc_mm.models.flow_decoders.EFCFlowDecoder`, which owns
L_pm, L_sm and L_occ) on the shared encoder, and this class's optional
consistency loss L_cons:

``L = L_seg + 10 L_cons + 0.4 L_occ + 0.5 L_sm + L_pm``   (EFC eq. 8)

The objective is a list of loss modules, each owning its whole term and
declaring where its gradient goes (``grad_to``): mmseg's own ``loss_decode``
of the decode / auxiliary heads (L_seg), the flow decoder's ``losses``
(flow-only: L_pm, L_sm, L_occ) and this class's ``losses`` (terms across the
two branches: L_cons). Every module reads the batch's
:class:`~efc_mm.structures.PairContext`, built once per step, which computes
features, logits, flows and warps lazily and at most once. An ablation row
(the paper's Tables 1-2, ``configs/_base_/ablation/``) is a set of loss
modules present, absent or given an argument:

* L_seg: ``loss_weight=0`` on every head is the flow-only "UL" row;
* L_pm / L_sm / L_occ: ``flow_decoder.losses.photometric`` /
  ``smoothness`` / ``occlusion`` (None = absent);
* L_cons: ``losses.consistency`` (None = absent);
* TCC_fix: ``flow_decoder.frozen=True`` + ``flow_encoder`` (a separate frozen
  copy of the backbone), both loaded with ``init_cfg=dict(
  type='PretrainedPart', checkpoint=..., prefix=...)``.

Batch layout: see :mod:`efc_mm.structures.pair_context` (all frames i, then
all frames i+t; the flow decoder runs once on both orderings).
"""
import contextlib
import copy
from typing import Dict, List, Optional

import torch
from mmengine.config import ConfigDict
from mmengine.logging import MessageHub
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.structures import SegDataSample
from mmseg.utils import add_prefix
from torch import Tensor

from ...registry import MODELS
from ...structures import (PairContext, PairDataSample, pair_to_frames,
                           resize_map, split_pair_samples, swap_pair)
from ..losses.utils import BaseEFCLoss, build_loss_list, sum_losses
from .staged_backbone import StagedBackbone

__all__ = ['EFCSegmentor']


#: the segmentor's own losses when a config gives none: L_cons (eq. 2)
DEFAULT_EFC_LOSSES = dict(consistency=dict(type='FeatureConsistencyLoss'))


def _seg_loss_weight(head) -> float:
    """Sum of the ``loss_weight`` of a head's ``loss_decode`` module(s)."""
    mods = head.loss_decode
    mods = mods if isinstance(mods, torch.nn.ModuleList) else [mods]
    return float(sum(getattr(m, 'loss_weight', 1.0) for m in mods))


@contextlib.contextmanager
def _flow_rng():
    """Run the block on a CPU random stream of its own, seeded from the
    run's seed (``torch.initial_seed()``) without drawing from the current
    stream: the global stream continues after the block as if the block
    had not run. (Modules are built and initialised on the CPU.)"""
    seed = (torch.initial_seed() ^ 0x5EED_F10E) % (2**63)
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        yield


@MODELS.register_module()
class EFCSegmentor(EncoderDecoder):
    """mmseg ``EncoderDecoder`` + EFC flow branch sharing the encoder.

    Args:
        backbone, decode_head, neck, auxiliary_head, train_cfg, test_cfg,
            data_preprocessor, pretrained, init_cfg: as
            :class:`EncoderDecoder`.
        flow_decoder (dict | None): flow decoder config (e.g.
            ``EFCFlowDecoder`` with its flow losses); None = segmentation-only
            baseline (trains on pairs with L_seg only).
        flow_encoder (dict | None): None (the paper): the flow decoder reads
            the shared encoder. A dict: the flow branch gets its own copy of
            the backbone, built from ``backbone`` updated with this dict
            (e.g. its ``init_cfg``), frozen when the flow decoder is frozen
            (TCC_fix).
        losses (dict | list | None): the losses across the two branches,
            ``{term: loss dict | None}`` (mmseg ``loss_decode`` style; a dict
            so that a row can remove or change one term); default
            ``dict(consistency=dict(type='FeatureConsistencyLoss'))`` (L_cons,
            eq. 2). None: no such loss.
        shared_stages (str | None): last backbone stage of the shared
            encoder (see :class:`StagedBackbone`); None = paper default
            (``'layer3'`` for ResNet, ``'conv4'`` for the VGG front end).
        check_finite (bool): after each training loss, check the summed
            loss once (one host-device synchronisation per step); only when
            it is NaN / inf, find and name the term (loss, scale, direction)
            and raise :class:`FloatingPointError`. Default True.
    """

    def __init__(self,
                 backbone,
                 decode_head,
                 flow_decoder=None,
                 flow_encoder=None,
                 losses=DEFAULT_EFC_LOSSES,
                 shared_stages: Optional[str] = None,
                 check_finite: bool = True,
                 neck=None,
                 auxiliary_head=None,
                 train_cfg=None,
                 test_cfg=None,
                 data_preprocessor=None,
                 pretrained=None,
                 init_cfg=None):
        backbone_cfg = copy.deepcopy(backbone)
        super().__init__(
            backbone=backbone, decode_head=decode_head, neck=neck,
            auxiliary_head=auxiliary_head, train_cfg=train_cfg,
            test_cfg=test_cfg, data_preprocessor=data_preprocessor,
            pretrained=pretrained, init_cfg=init_cfg)
        if test_cfg is not None and not isinstance(test_cfg, ConfigDict):
            self.test_cfg = ConfigDict(test_cfg)  # mmseg reads attributes
        self.check_finite = check_finite
        self._steps = 0  # training steps, when no runner tells the iteration
        self.stages = StagedBackbone(self.backbone)
        self.shared_index = self.stages.index(shared_stages)
        self.with_flow = flow_decoder is not None
        self.flow_encoder = None
        if self.with_flow:
            # on its own random stream: the segmentation part of the model,
            # and every random number drawn after it, are those of the same
            # config without the flow branch (see init_weights)
            with _flow_rng():
                self._build_flow_branch(flow_decoder, flow_encoder,
                                        backbone_cfg)
        elif flow_encoder is not None:
            raise ValueError('EFCSegmentor: flow_encoder is set but '
                             'flow_decoder is None')
        self.losses = build_loss_list(losses, MODELS, 'EFCSegmentor')
        names = [m.loss_name for m in self.efc_losses]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f'EFCSegmentor: the flow decoder and the '
                             f'segmentor both have a loss named {dup}')
        for mod in self.efc_losses:
            mod.check_model(self)

    def _build_flow_branch(self, flow_decoder, flow_encoder,
                           backbone_cfg) -> None:
        """Flow decoder (and its own encoder copy, if asked), checked
        against the shared encoder."""
        self.flow_decoder = MODELS.build(flow_decoder)
        n_shared = self.shared_index + 1
        for idx in getattr(self.flow_decoder, 'in_index', []):
            if not -n_shared <= idx < n_shared:
                raise ValueError(
                    f'flow_decoder.in_index={list(self.flow_decoder.in_index)}'
                    f' asks for encoder level {idx}, but the shared encoder '
                    f'({self.stages.names[:n_shared]}) gives {n_shared} '
                    'levels')
        frozen = getattr(self.flow_decoder, 'frozen', False)
        if frozen and flow_encoder is None:
            raise ValueError(
                'EFCSegmentor: flow_decoder.frozen=True (TCC_fix) needs '
                'flow_encoder=dict(init_cfg=...): a fixed flow network on the '
                'trained shared encoder would read features it was not '
                'trained on')
        if flow_encoder is not None:
            cfg = copy.deepcopy(backbone_cfg)
            cfg.pop('pretrained', None)
            cfg.update(flow_encoder)
            self.flow_encoder = MODELS.build(cfg)
            self._flow_stages = StagedBackbone(self.flow_encoder)
            if frozen:
                for p in self.flow_encoder.parameters():
                    p.requires_grad_(False)

    def init_weights(self):
        """mmengine's ``init_weights``, the flow branch on its own random
        stream after the segmentation part (common random numbers).

        The segmentor's weights, and the random stream the training step
        draws from afterwards (dropout, ...), are then bit-identical to those
        of the same config without the flow branch (``flow_decoder=None``)
        and the same seed; nothing of the flow branch reaches the segmentor
        unless a loss routes it there. So a row and its baseline differ by
        the method only, not by the luck of an initialisation, and their
        per-seed difference is a paired one (``tests/test_determinism.py``
        checks the identity over training steps).
        """
        flow = [n for n in ('flow_decoder', 'flow_encoder')
                if getattr(self, n, None) is not None]
        saved = list(self._modules.items())
        self._modules.clear()
        self._modules.update((n, m) for n, m in saved if n not in flow)
        try:
            super().init_weights()
        finally:
            self._modules.clear()
            self._modules.update(saved)
        with _flow_rng():
            for name in flow:
                mod = getattr(self, name)
                if hasattr(mod, 'init_weights'):
                    mod.init_weights()

    # ------------------------------------------------------------------
    def train(self, mode: bool = True):
        """A frozen flow branch (TCC_fix) stays in eval mode."""
        super().train(mode)
        if self.with_flow and self.flow_encoder is not None and \
                self.flow_decoder.frozen:
            self.flow_encoder.eval()
        return self

    @property
    def efc_losses(self) -> list:
        """Every EFC loss module of the model (the flow decoder's and the
        segmentor's own)."""
        # found once: _set_iteration reads them before every training step
        if getattr(self, '_efc_losses', None) is None:
            self._efc_losses = tuple(m for m in self.modules()
                                     if isinstance(m, BaseEFCLoss))
        return list(self._efc_losses)

    @property
    def occlusion_trained(self) -> bool:
        """True if O_est comes from trained (or fixed pretrained) heads."""
        return self.with_flow and self.flow_decoder.with_occlusion

    def _set_iteration(self) -> None:
        """Tell every loss the runner's iteration and ``max_iters``
        (mmengine's RuntimeInfoHook publishes both in the MessageHub, and a
        resumed run restores them), else the number of training losses this
        model computed."""
        hub = MessageHub.get_current_instance()
        it, max_iters = hub.get_info('iter'), hub.get_info('max_iters')
        it = self._steps if it is None else int(it)
        for mod in self.efc_losses:
            mod.set_iteration(it, max_iters)
        self._steps += 1

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    _pair_to_frames = staticmethod(pair_to_frames)

    def _to_unit_range(self, frames: Tensor) -> Tensor:
        """Undo the preprocessor's normalisation: RGB in [0, 1] (EFC eq. 5
        compares images, not normalised tensors)."""
        dp = self.data_preprocessor
        if getattr(dp, '_enable_normalize', False):
            frames = frames * dp.std + dp.mean
        return (frames / 255.0).clamp(0.0, 1.0)

    def encode_shared(self, frames: Tensor) -> List[Tensor]:
        """Shared-encoder pyramid of ``frames`` (fine to coarse): the outputs
        of backbone stages ``0 .. shared_index``."""
        return self.stages.run(frames, 0, self.shared_index + 1)

    def _seg_from_shared(self, shared: List[Tensor]):
        """Segmentation tail (remaining backbone stages, neck) -> features
        as ``extract_feat`` returns them."""
        tail = self.stages.run(shared[-1], self.shared_index + 1,
                               len(self.stages.names))
        x = self.stages.assemble(list(shared) + tail)
        if self.with_neck:
            x = self.neck(x)
        return x

    def _seg_forward(self, shared: List[Tensor]):
        """``(features, decode-head logits)`` of the shared pyramid."""
        x = self._seg_from_shared(shared)
        return x, self.decode_head.forward(x)

    def _run_flow(self, frames: Tensor, shared: List[Tensor]) -> Dict:
        """Flow decoder on both orderings (one batched call, 2B items)."""
        if self.flow_encoder is None:
            return self.flow_decoder(shared, [swap_pair(f) for f in shared])
        with torch.set_grad_enabled(torch.is_grad_enabled() and
                                    not self.flow_decoder.frozen):
            feats = self._flow_stages.run(frames, 0, self.shared_index + 1)
            return self.flow_decoder(feats, [swap_pair(f) for f in feats])

    @property
    def _trains_seg(self) -> bool:
        """L_seg is present (some decode / auxiliary loss weight > 0)."""
        w = _seg_loss_weight(self.decode_head)
        if self.with_auxiliary_head:
            heads = self.auxiliary_head
            heads = heads if isinstance(heads, torch.nn.ModuleList) else [heads]
            w += sum(_seg_loss_weight(h) for h in heads)
        return w > 0

    @staticmethod
    def _labelled_frames(pair_samples, frame_samples) -> List[bool]:
        """Which frames carry a label, in the order of ``frame_samples``
        (all frames i, then all frames i+t). From the pairs' ``labelled``
        metainfo when every pair has it (no device sync), else from the
        label maps (any pixel other than 255)."""
        flags = [s.metainfo.get('labelled') for s in pair_samples]
        if all(f is not None for f in flags):
            return [bool(f[0]) for f in flags] + [bool(f[1]) for f in flags]
        return [('gt_sem_seg' in fs and bool((fs.gt_sem_seg.data != 255).any()))
                for fs in frame_samples]

    def pair_context(self, inputs: Tensor, data_samples) -> PairContext:
        """The :class:`PairContext` of a batch of pairs: frames, images in
        [0, 1], the shared pyramid (computed now) and, lazily, segmentation
        logits and both directions' flow."""
        frames = pair_to_frames(inputs)
        frame_samples = split_pair_samples(data_samples)
        shared = self.encode_shared(frames)
        flow_fn = ((lambda: self._run_flow(frames, shared))
                   if self.with_flow else None)
        return PairContext(
            frames, self._to_unit_range(frames), shared,
            self._labelled_frames(data_samples, frame_samples),
            seg_fn=self._seg_forward, flow_fn=flow_fn,
            head_fn=self.decode_head.forward)

    def _raise_non_finite(self, losses: dict, terms: list) -> None:
        """Name the first NaN / inf term: loss, scale and direction."""
        for name, lvl, d, value in terms:
            if not torch.isfinite(value).all():
                kind = 'NaN' if torch.isnan(value).any() else 'inf'
                raise FloatingPointError(
                    f'{name} is {kind} at scale {lvl}, direction {d}')
        for k, v in losses.items():
            if 'loss' in k.split('.')[-1] and not torch.isfinite(v).all():
                kind = 'NaN' if torch.isnan(v).any() else 'inf'
                raise FloatingPointError(f'{k} is {kind}')
        raise FloatingPointError('the summed loss is not finite')

    def _finish(self, losses: dict, terms: list) -> dict:
        """One finite check of the summed loss (off the hot path); the
        diagnosis runs only on failure."""
        if self.check_finite:
            total = sum(v.sum() for k, v in losses.items()
                        if 'loss' in k.split('.')[-1] and
                        isinstance(v, Tensor))
            if isinstance(total, Tensor) and not torch.isfinite(total):
                self._raise_non_finite(losses, terms)
        return losses

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    def seg_losses(self, ctx: PairContext, data_samples) -> dict:
        """L_seg: the decode / auxiliary heads' own losses on every frame
        (unlabelled frames carry all-255 maps and are ignored)."""
        frame_samples = split_pair_samples(data_samples)
        losses = add_prefix(self.decode_head.loss_by_feat(
            ctx.seg_logits, frame_samples), 'decode')
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(
                ctx.seg_features, frame_samples))
        if not any(ctx.labelled):
            # mmseg logs acc_seg 100 for a batch without a labelled pixel;
            # there is no accuracy to log
            for k in [k for k in losses if k.endswith('acc_seg')]:
                del losses[k]
        return losses

    def loss(self, inputs: Tensor, data_samples) -> dict:
        """Losses of a batch of pairs (or of single frames).

        Args:
            inputs (Tensor): ``(B, 2, 3, H, W)`` normalised pairs, or
                ``(B, 3, H, W)`` frames (plain mmseg training, L_seg only).
            data_samples (list): :class:`PairDataSample` per pair (frames:
                :class:`SegDataSample`).

        Returns:
            dict[str, Tensor]: ``decode.loss_ce``, ``decode.acc_seg``,
            ``aux.loss_ce``, ... (L_seg), then every loss module's named
            losses (``loss_pm``, ``loss_sm``, ``loss_occ``, ``loss_cons``;
            EFC eq. 2-7, each already weighted). A loss whose scheduled
            weight is still 0 is absent.

        Raises:
            ValueError: bad input shapes.
            FloatingPointError: a loss is NaN / inf (names loss, scale and
                direction).
        """
        self._set_iteration()
        if inputs.dim() == 4:
            if inputs.shape[1] != 3:
                raise ValueError(f'frames must have 3 channels, got '
                                 f'{tuple(inputs.shape)}')
            return self._finish(super().loss(inputs, data_samples), [])
        ctx = self.pair_context(inputs, data_samples)
        losses = {}
        if self._trains_seg or not self.with_flow:
            losses.update(self.seg_losses(ctx, data_samples))
        if self.with_flow:
            losses.update(self.flow_decoder.loss_by_feat(ctx))
        losses.update(sum_losses(self.losses, ctx))
        return self._finish(losses, ctx.terms)

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
    def predict_flow(self, img1: Tensor, img2: Tensor) -> Dict[str, Tensor]:
        """Forward and backward flow and occlusion of a batch of pairs.

        Args:
            img1, img2 (Tensor): ``(B, 3, H, W)`` frames i and i+t,
                normalised as the data preprocessor outputs them.

        Returns:
            dict: ``flow_fw``, ``flow_bw`` ``(B, 2, H, W)`` in pixels,
            ``occ_fw``, ``occ_bw`` ``(B, 1, H, W)`` in [0, 1], at the input
            resolution (finest decoder level upsampled bilinearly).
        """
        if not self.with_flow:
            raise RuntimeError('this EFCSegmentor has no flow_decoder')
        if img1.shape != img2.shape:
            raise ValueError(f'the two frames differ in shape: '
                             f'{tuple(img1.shape)} vs {tuple(img2.shape)}')
        frames = self._pair_to_frames(torch.stack([img1, img2], dim=1))
        return self._flow_at_input(frames, self.encode_shared(frames))

    def _flow_at_input(self, frames, shared) -> Dict[str, Tensor]:
        out = self._run_flow(frames, shared)
        size = frames.shape[-2:]
        flow = resize_map(out['flows'][-1], size)  # input pixels: no rescale
        occ = resize_map(out['occlusions'][-1], size)
        half = frames.shape[0] // 2
        return dict(flow_fw=flow[:half], flow_bw=flow[half:],
                    occ_fw=occ[:half], occ_bw=occ[half:])

    def predict(self, inputs: Tensor, data_samples=None):
        """Single frames: mmseg's ``EncoderDecoder.predict`` (unchanged).

        Pairs ``(B, 2, 3, H, W)``: :class:`PairDataSample` per pair with
        ``frame1/2.pred_sem_seg`` / ``seg_logits`` and ``pred_flow_fw/bw``,
        ``pred_occ_fw/bw``, all at the original size (padding removed,
        resized to ``ori_shape``, flow vectors rescaled).
        """
        if inputs.dim() != 5:
            return super().predict(inputs, data_samples)
        b = inputs.shape[0]
        frames = self._pair_to_frames(inputs)
        h_pad, w_pad = frames.shape[-2:]
        if data_samples is None:
            data_samples = []
            for _ in range(b):
                s = PairDataSample()
                meta = dict(ori_shape=(h_pad, w_pad), img_shape=(h_pad, w_pad),
                            pad_shape=(h_pad, w_pad))
                s.frame1 = SegDataSample(metainfo=meta)
                s.frame2 = SegDataSample(metainfo=meta)
                data_samples.append(s)
        frame_samples = split_pair_samples(data_samples)
        metas = [fs.metainfo for fs in frame_samples]
        shared = self.encode_shared(frames)
        if self.test_cfg.get('mode', 'whole') == 'whole':
            x = self._seg_from_shared(shared)
            seg_logits = self.decode_head.predict(x, metas, self.test_cfg)
        else:
            seg_logits = self.inference(frames, metas)
        self.postprocess_result(seg_logits, frame_samples)
        if not self.with_flow:
            return data_samples
        flow = self._flow_at_input(frames, shared)
        for i, sample in enumerate(data_samples):
            meta = sample.frame1.metainfo
            h, w = meta.get('img_shape', (h_pad, w_pad))[:2]
            oh, ow = meta.get('ori_shape', (h, w))[:2]
            for d in ('fw', 'bw'):
                f = flow[f'flow_{d}'][i:i + 1, :, :h, :w]
                o = flow[f'occ_{d}'][i:i + 1, :, :h, :w]
                if (oh, ow) != (h, w):
                    f = resize_map(f, (oh, ow)) * f.new_tensor(
                        [ow / w, oh / h]).view(1, 2, 1, 1)
                    o = resize_map(o, (oh, ow))
                setattr(sample, f'pred_flow_{d}', PixelData(data=f[0]))
                setattr(sample, f'pred_occ_{d}', PixelData(data=o[0]))
        return data_samples

    def _forward(self, inputs: Tensor, data_samples=None):
        """Tensor mode. Frames: mmseg's. Pairs: ``(seg_logits of the 2B
        frames, flow decoder output dict)``."""
        if inputs.dim() != 5:
            return super()._forward(inputs, data_samples)
        frames = self._pair_to_frames(inputs)
        shared = self.encode_shared(frames)
        seg = self.decode_head.forward(self._seg_from_shared(shared))
        return seg, (self._run_flow(frames, shared) if self.with_flow else None)
