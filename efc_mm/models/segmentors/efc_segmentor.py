"""EFCSegmentor: joint video segmentation and unsupervised optical flow.

Ding, Wang, Zhou, Shi, Lu, Luo, "Every Frame Counts: Joint Learning of Video
Segmentation and Optical Flow", AAAI 2020 (spec: ``shared/EFC_METHOD.md``).

A subclass of mmseg's :class:`EncoderDecoder`: single-image ``predict``,
``extract_feat``, ``encode_decode``, ``slide_inference`` are inherited
untouched, so inference costs exactly what the plain segmentor costs and
gives bit-identical outputs for the same weights. Training on pairs adds the
flow branch (:class:`~efc_mm.models.flow_decoders.EFCFlowDecoder`) on the
shared encoder and the EFC losses:

``L = L_seg + 10 L_cons + 0.4 L_occ + 0.5 L_sm + L_pm``   (EFC eq. 8)

Batch layout: pair inputs ``(B, 2, 3, H, W)`` become ``2B`` frames
``inputs.transpose(0, 1).reshape(2B, 3, H, W)`` (all frames i, then all
frames i+t; :func:`~efc_mm.structures.split_pair_samples` gives the matching
per-frame samples). The flow decoder runs once on ``2B`` items,
``(cat(f_i, f_{i+t}), cat(f_{i+t}, f_i))``: the first ``B`` outputs are the
forward flows ``F_{i->i+t}``, the last ``B`` the backward ``F_{i+t->i}``.
Everything per direction below is therefore computed on all ``2B`` at once
against the "swapped" batch (:func:`_swap`), and only the loss calls are
split per direction (so that a NaN names its direction).
"""
import copy
import warnings
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.structures import SegDataSample
from mmseg.utils import add_prefix
from torch import Tensor

from ...registry import MODELS
from ...structures import PairDataSample, split_pair_samples
from ..flow_decoders import flow_to_level_pixels
from .staged_backbone import StagedBackbone

__all__ = ['EFCSegmentor', 'DEFAULT_EFC_LOSSES', 'DEFAULT_EFC_TRAIN_CFG']

#: Paper defaults (EFC eq. 2-8, Sec. "Implementation details").
DEFAULT_EFC_LOSSES = dict(
    photometric=dict(type='PhotometricLoss', beta=0.85, loss_weight=1.0,
                     loss_name='loss_pm'),
    smoothness=dict(type='SmoothnessLoss', loss_weight=0.5,
                    loss_name='loss_sm'),
    consistency=dict(type='FeatureConsistencyLoss', loss_weight=10.0,
                     loss_name='loss_cons'),
    occlusion=dict(type='OcclusionLoss', alpha=0.2, loss_weight=0.4,
                   loss_name='loss_occ'))

#: ``train_cfg`` flags and their defaults (the full method). The ablations of
#: the paper's Tables 1-2 switch these (see ``configs/ablation/``).
DEFAULT_EFC_TRAIN_CFG = dict(
    with_seg_loss=True,          # L_seg on labelled frames (False: "UL")
    with_flow_loss=True,         # L_pm + L_sm (unsupervised flow)
    with_occlusion=True,         # O_est used in L_pm (eq. 6) and L_occ (eq. 4)
    with_consistency=True,       # L_cons, temporal consistency ("TC"/"TCC")
    consistency_occ_mask=True,   # (1 - O_est) in L_cons ("OM")
    with_seg_occ_error=True,     # O_error from segmentation in L_pm ("OE")
    freeze_flow=False,           # "TCC_fix": frozen pretrained flow branch
    flow_checkpoint=None,        # checkpoint of the frozen flow branch
    flow_loss_levels=None,       # decoder levels (coarse->fine idx) for pm/sm/occ
    flow_level_weights=None,     # per level of flow_loss_levels; None: all 1
    consistency_level=-1,        # shared-encoder level for L_cons
    occ_threshold=0.2,           # range-map threshold (EFC_METHOD decision)
    check_finite=True,           # raise FloatingPointError naming the loss
)


def _swap(x: Tensor) -> Tensor:
    """``[a; b] -> [b; a]`` along the batch (frame i <-> frame i+t)."""
    half = x.shape[0] // 2
    return torch.cat([x[half:], x[:half]], dim=0)


def _resize_to(x: Tensor, size, mode: str = 'bilinear') -> Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode == 'area':
        return F.interpolate(x, size=tuple(size), mode='area')
    return F.interpolate(x, size=tuple(size), mode=mode, align_corners=False)


@MODELS.register_module()
class EFCSegmentor(EncoderDecoder):
    """mmseg ``EncoderDecoder`` + EFC flow branch sharing the encoder.

    Args:
        backbone, decode_head, neck, auxiliary_head, test_cfg,
        data_preprocessor, pretrained, init_cfg: as :class:`EncoderDecoder`.
        flow_decoder (dict | None): flow decoder config (e.g.
            ``EFCFlowDecoder``); None = segmentation-only baseline (trains on
            pairs with L_seg only).
        shared_stages (str | None): last backbone stage of the shared
            encoder (see :class:`StagedBackbone`); None = paper default
            (``'layer3'`` for ResNet, ``'conv4'`` for the VGG front end).
        efc_losses (dict): per-loss config overrides merged into
            :data:`DEFAULT_EFC_LOSSES` (keys ``photometric``, ``smoothness``,
            ``consistency``, ``occlusion``).
        train_cfg (dict): EFC flags merged into :data:`DEFAULT_EFC_TRAIN_CFG`
            (also passed to the heads as mmseg does).
    """

    def __init__(self,
                 backbone,
                 decode_head,
                 flow_decoder=None,
                 shared_stages: Optional[str] = None,
                 efc_losses: Optional[dict] = None,
                 neck=None,
                 auxiliary_head=None,
                 train_cfg=None,
                 test_cfg=None,
                 data_preprocessor=None,
                 pretrained=None,
                 init_cfg=None):
        super().__init__(
            backbone=backbone, decode_head=decode_head, neck=neck,
            auxiliary_head=auxiliary_head, train_cfg=train_cfg,
            test_cfg=test_cfg, data_preprocessor=data_preprocessor,
            pretrained=pretrained, init_cfg=init_cfg)
        if test_cfg is not None and not isinstance(test_cfg, ConfigDict):
            self.test_cfg = ConfigDict(test_cfg)  # mmseg reads attributes
        unknown = set(train_cfg or {}) - set(DEFAULT_EFC_TRAIN_CFG)
        cfg = dict(DEFAULT_EFC_TRAIN_CFG)
        cfg.update({k: v for k, v in (train_cfg or {}).items()
                    if k in DEFAULT_EFC_TRAIN_CFG})
        self.efc_cfg = ConfigDict(cfg)
        if unknown:
            warnings.warn(f'EFCSegmentor: train_cfg keys {sorted(unknown)} '
                          'are not EFC flags; passed to the heads only')
        self.stages = StagedBackbone(self.backbone)
        self.shared_index = self.stages.index(shared_stages)
        self.with_flow = flow_decoder is not None
        if not self.with_flow:
            return
        self.flow_decoder = MODELS.build(flow_decoder)
        n_shared = self.shared_index + 1
        for idx in getattr(self.flow_decoder, 'in_index', []):
            if not -n_shared <= idx < n_shared:
                raise ValueError(
                    f'flow_decoder.in_index={list(self.flow_decoder.in_index)}'
                    f' asks for encoder level {idx}, but the shared encoder '
                    f'({self.stages.names[:n_shared]}) gives {n_shared} '
                    'levels')
        losses = copy.deepcopy(DEFAULT_EFC_LOSSES)
        for key, override in (efc_losses or {}).items():
            if key not in losses:
                raise ValueError(f'efc_losses: unknown key {key!r}; expected '
                                 f'one of {sorted(losses)}')
            losses[key].update(override)
        self.loss_pm = MODELS.build(losses['photometric'])
        self.loss_sm = MODELS.build(losses['smoothness'])
        self.loss_cons = MODELS.build(losses['consistency'])
        self.loss_occ = MODELS.build(losses['occlusion'])
        if self.efc_cfg.freeze_flow:
            # TCC_fix: a separate frozen flow network (its own copy of the
            # shared encoder), as the paper's fixed pretrained FlowNetS.
            self.flow_encoder = copy.deepcopy(self.backbone)
            self._flow_stages = StagedBackbone(self.flow_encoder)
            for p in list(self.flow_encoder.parameters()) + list(
                    self.flow_decoder.parameters()):
                p.requires_grad_(False)

    # ------------------------------------------------------------------
    # weights
    # ------------------------------------------------------------------
    def init_weights(self):
        """mmengine init, then the frozen flow checkpoint (TCC_fix)."""
        super().init_weights()
        if self.with_flow and self.efc_cfg.freeze_flow:
            if self.efc_cfg.flow_checkpoint is None:
                warnings.warn('freeze_flow=True without flow_checkpoint: '
                              'the frozen flow branch stays random')
            else:
                self.load_flow_checkpoint(self.efc_cfg.flow_checkpoint)

    def load_flow_checkpoint(self, filename: str) -> None:
        """Load the flow branch of an EFC checkpoint (``backbone.*`` into the
        frozen flow encoder, ``flow_decoder.*`` into the flow decoder).

        Raises:
            FileNotFoundError: no such file.
            KeyError: the checkpoint holds no ``flow_decoder.*`` weights.
        """
        from mmengine.runner import CheckpointLoader
        ckpt = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
        state = ckpt.get('state_dict', ckpt)
        dec = {k[len('flow_decoder.'):]: v for k, v in state.items()
               if k.startswith('flow_decoder.')}
        if not dec:
            raise KeyError(f'{filename} has no flow_decoder.* weights; train '
                           'a flow branch first (e.g. configs/ablation UL)')
        self.flow_decoder.load_state_dict(dec)
        enc = {k[len('backbone.'):]: v for k, v in state.items()
               if k.startswith('backbone.')}
        target = getattr(self, 'flow_encoder', self.backbone)
        target.load_state_dict(enc, strict=False)

    def train(self, mode: bool = True):
        """Keep the frozen flow branch (TCC_fix) in eval mode."""
        super().train(mode)
        if self.with_flow and self.efc_cfg.freeze_flow:
            self.flow_encoder.eval()
            self.flow_decoder.eval()
        return self

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    @staticmethod
    def _pair_to_frames(inputs: Tensor) -> Tensor:
        """``(B, 2, 3, H, W) -> (2B, 3, H, W)``, all frames i first."""
        if inputs.dim() != 5 or inputs.shape[1] != 2:
            raise ValueError('EFCSegmentor expects pairs (B, 2, 3, H, W) or '
                             f'frames (B, 3, H, W), got {tuple(inputs.shape)}')
        if inputs.shape[2] != 3:
            raise ValueError(f'each frame must have 3 channels, got '
                             f'{inputs.shape[2]} (inputs {tuple(inputs.shape)})')
        b, _, c, h, w = inputs.shape
        return inputs.transpose(0, 1).reshape(2 * b, c, h, w)

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

    def _run_flow(self, frames: Tensor, shared: List[Tensor]) -> Dict:
        """Flow decoder on both orderings (one batched call, 2B items)."""
        if self.efc_cfg.freeze_flow:
            with torch.no_grad():
                feats = self._flow_stages.run(frames, 0, self.shared_index + 1)
                out = self.flow_decoder(feats, [_swap(f) for f in feats])
            return out
        return self.flow_decoder(shared, [_swap(f) for f in shared])

    def _check(self, value: Tensor, name: str, where: str = '') -> Tensor:
        if self.efc_cfg.check_finite and not torch.isfinite(value).all():
            kind = 'NaN' if torch.isnan(value).any() else 'inf'
            raise FloatingPointError(f'{name} is {kind}{where}')
        return value

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples) -> dict:
        """Losses of a batch of pairs (or of single frames).

        Args:
            inputs (Tensor): ``(B, 2, 3, H, W)`` normalised pairs, or
                ``(B, 3, H, W)`` frames (plain mmseg training, L_seg only).
            data_samples (list): :class:`PairDataSample` per pair (frames:
                :class:`SegDataSample`).

        Returns:
            dict[str, Tensor]: ``decode.loss_ce``, ``decode.acc_seg``,
            ``aux.loss_ce``, ... (labelled frames; unlabelled ones carry all
            255 and are ignored), and ``loss_pm``, ``loss_sm``, ``loss_occ``,
            ``loss_cons`` (EFC eq. 2-7, each already weighted).

        Raises:
            ValueError: bad input shapes.
            FloatingPointError: a loss is NaN / inf (names loss, scale and
                direction).
        """
        if inputs.dim() == 4:
            if inputs.shape[1] != 3:
                raise ValueError(f'frames must have 3 channels, got '
                                 f'{tuple(inputs.shape)}')
            losses = super().loss(inputs, data_samples)
            for k, v in losses.items():
                if k.endswith('loss_ce') or 'loss' in k.split('.')[-1]:
                    self._check(v, k)
            return losses
        frames = self._pair_to_frames(inputs)
        frame_samples = split_pair_samples(data_samples)
        cfg = self.efc_cfg
        flow_on = self.with_flow
        need_seg = (not flow_on or cfg.with_seg_loss or
                    (cfg.with_seg_occ_error and cfg.with_flow_loss))
        shared = self.encode_shared(frames)
        losses = dict()
        seg_logits = None
        if need_seg:
            x = self._seg_from_shared(shared)
            seg_logits = self.decode_head.forward(x)
            if cfg.with_seg_loss or not flow_on:
                loss_decode = self.decode_head.loss_by_feat(
                    seg_logits, frame_samples)
                losses.update(add_prefix(loss_decode, 'decode'))
                if self.with_auxiliary_head:
                    losses.update(
                        self._auxiliary_head_forward_train(x, frame_samples))
                for k, v in losses.items():
                    if 'loss' in k.split('.')[-1]:
                        self._check(v, k)
        if flow_on:
            losses.update(self._flow_losses(frames, shared, seg_logits))
        return losses

    def _flow_losses(self, frames: Tensor, shared: List[Tensor],
                     seg_logits: Optional[Tensor]) -> Dict[str, Tensor]:
        """EFC eq. 2-7 on the batched forward/backward flow outputs."""
        cfg = self.efc_cfg
        out = self._run_flow(frames, shared)
        flows, occs = out['flows'], out['occlusions']
        size_in = frames.shape[-2:]
        half = frames.shape[0] // 2
        dirs = (('fw', slice(0, half)), ('bw', slice(half, 2 * half)))
        losses: Dict[str, Tensor] = {}

        def add(loss_mod, value, level, d):
            name = loss_mod.loss_name
            self._check(value, name, f' at scale {level}, direction {d}')
            losses[name] = losses.get(name, 0) + value

        if cfg.with_flow_loss and not cfg.freeze_flow:
            imgs = self._to_unit_range(frames)
            levels = cfg.flow_loss_levels
            if levels is None:
                levels = list(range(len(flows)))
            weights = cfg.flow_level_weights or [1.0] * len(levels)
            if len(weights) != len(levels):
                raise ValueError('flow_level_weights needs one weight per '
                                 f'entry of flow_loss_levels {levels}')
            use_oe = cfg.with_seg_occ_error and seg_logits is not None
            for lvl, wgt in zip(levels, weights):
                if not -len(flows) <= lvl < len(flows):
                    raise ValueError(f'flow_loss_levels entry {lvl}: the '
                                     f'decoder gives {len(flows)} levels')
                lvl = lvl % len(flows)
                flow = flow_to_level_pixels(flows[lvl], size_in)
                size = flow.shape[-2:]
                img = _resize_to(imgs, size, 'area')
                img_w, valid = self._warp(_swap(img), flow)
                occ = occs[lvl] if cfg.with_occlusion else None
                occ_err = None
                if use_oe:  # eq. 5: O_seg from argmax disagreement
                    seg = _resize_to(seg_logits.detach(), size)
                    seg_w, _ = self._warp(_swap(seg), flow.detach())
                    occ_err = self._seg_occlusion_error(
                        seg, seg_w, occ if occ is not None else
                        flow.new_zeros(flow.shape[0], 1, *size), valid)
                occ_tgt = None
                if cfg.with_occlusion:  # eq. 4 target from the opposite flow
                    occ_tgt = self._occ_target(_swap(flow).detach(),
                                               cfg.occ_threshold)
                for d, s in dirs:
                    add(self.loss_pm, wgt * self.loss_pm(
                        img[s], img_w[s], None if occ is None else occ[s],
                        None if occ_err is None else occ_err[s], valid[s]),
                        lvl, d)
                    add(self.loss_sm, wgt * self.loss_sm(flow[s], img[s]),
                        lvl, d)
                    if occ_tgt is not None:
                        add(self.loss_occ, wgt * self.loss_occ(
                            occ[s], occ_tgt[s]), lvl, d)
        if cfg.with_consistency:
            losses.update(self._consistency_loss(shared, flows, occs,
                                                 size_in, dirs))
        return losses

    def _consistency_loss(self, shared, flows, occs, size_in, dirs):
        """EFC eq. 2: ``(1 - O_est) ||Warp(S_{i+t}, F) - S_i||^2`` on the
        shared-encoder level ``consistency_level``."""
        cfg = self.efc_cfg
        feat = shared[cfg.consistency_level]
        size = feat.shape[-2:]
        match = [i for i, f in enumerate(flows) if f.shape[-2:] == size]
        lvl = match[-1] if match else len(flows) - 1
        flow = flow_to_level_pixels(_resize_to(flows[lvl], size), size_in)
        if cfg.freeze_flow:
            flow = flow.detach()
        feat_w, valid = self._warp(_swap(feat), flow)
        occ = None
        if cfg.consistency_occ_mask and cfg.with_occlusion:
            # our choice: the mask weights L_cons but is trained by L_occ
            # and L_pm only (detached), else lambda_cons = 10 pushes O_est->1
            occ = _resize_to(occs[lvl], size).detach()
        losses = {}
        for d, s in dirs:
            value = self.loss_cons(feat[s], feat_w[s],
                                   None if occ is None else occ[s], valid[s])
            self._check(value, self.loss_cons.loss_name,
                        f' at scale {lvl}, direction {d}')
            name = self.loss_cons.loss_name
            losses[name] = losses.get(name, 0) + value
        return losses

    # thin indirections to efc_mm.ops / losses (imported lazily so that the
    # model package imports even while those modules are being written)
    @staticmethod
    def _warp(x: Tensor, flow: Tensor):
        from ...ops import warp
        return warp(x, flow)

    @staticmethod
    def _occ_target(flow_bw: Tensor, threshold: float) -> Tensor:
        from ...ops import occlusion_from_range_map
        return occlusion_from_range_map(flow_bw, threshold=threshold)

    @staticmethod
    def _seg_occlusion_error(seg, seg_w, occ, valid):
        from ..losses import seg_occlusion_error
        return seg_occlusion_error(seg, seg_w, occ, valid)

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
        flow = _resize_to(out['flows'][-1], size)  # input pixels: no rescale
        occ = _resize_to(out['occlusions'][-1], size)
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
        for fs in frame_samples:  # the pair preprocessor pads bottom/right
            h, w = fs.metainfo.get('img_shape', (h_pad, w_pad))[:2]
            if 'padding_size' not in fs.metainfo and \
                    'img_padding_size' not in fs.metainfo:
                fs.set_metainfo(dict(padding_size=[0, w_pad - w, 0,
                                                   h_pad - h]))
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
                    f = _resize_to(f, (oh, ow)) * f.new_tensor(
                        [ow / w, oh / h]).view(1, 2, 1, 1)
                    o = _resize_to(o, (oh, ow))
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
