"""Output consistency with the warped, detached partner prediction.

The form of temporal consistency that works in published video
semi-supervised segmentation (ETC, Liu et al., ECCV 2020; IFR; UniMatch-style
consistency): a loss on the segmentation *outputs* of frame ``i`` towards
the prediction of its partner ``i + t`` warped by the flow, the target held
constant (stop-gradient), masked by occlusion and by the target's
confidence, at a low, ramped-up weight. Issue 18's alternative to the
paper's feature L_cons (eq. 2, :class:`FeatureConsistencyLoss`, kept as the
paper preset); it reads the same pair context and warps the same way.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch.nn.functional as F
from torch import Tensor

from efc_mm.registry import MODELS
from .consistency_loss import _DEFAULT_SCHEDULE, FeatureConsistencyLoss
from .utils import check_choice

__all__ = ['OutputConsistencyLoss']

DIVERGENCES = ('kl', 'ce', 'logit_mse')


@MODELS.register_module()
class OutputConsistencyLoss(FeatureConsistencyLoss):
    r"""Consistency of a frame's logits with its partner's warped prediction.

    With ``z`` the frame's logits, ``z'`` the partner's logits warped into
    the frame (``z'_i = Warp(z_{i+t}, F_{i->i+t})``, the warp of eq. 2) and
    ``p' = softmax(z' / T)`` the target (constant unless ``grad_to`` names
    ``'target'``), per pixel:

    * ``'kl'``: :math:`\sum_c p'_c (\log p'_c - \log \operatorname{softmax}(z / T)_c)`
      (KL to the soft target);
    * ``'ce'``: :math:`-\log \operatorname{softmax}(z)_{\arg\max p'}` (cross
      entropy to the target's hard pseudo-label);
    * ``'logit_mse'``: :math:`\frac{1}{C} \| z - z' \|^2` (logit
      consistency);

    averaged over the valid pixels whose target confidence
    :math:`\max_c p'_c` is at least ``confidence``, weighted by ``1 - O_est``
    (detached) when ``occlusion_mask``; both directions of every pair.

    Args:
        loss_weight (float): 0.1 (ETC's weight; issue 18 searches 0.01-1).
        loss_name (str): ``'loss_cons'`` (it replaces L_cons in a config).
        divergence (str): ``'kl'`` (default), ``'ce'`` or ``'logit_mse'``.
        confidence (float): pixels whose target confidence is below this
            are left out; 0 (default) keeps every pixel.
        temperature (float): softmax temperature of ``'kl'``. Default 1.
        occlusion_mask (bool): weight by ``1 - O_est`` (needs trained
            occlusion heads). Default True.
        frames (str): ``'all'`` or ``'unlabelled'`` (only frames without a
            label are pulled towards their partner).
        weight_schedule (dict | None): ramp, default 30 % -> 50 % of the
            run (:class:`BaseEFCLoss`).
        grad_to (Sequence[str]): default ``('seg', )``: the frame's own
            logits only; ``'target'`` and ``'flow'`` as in
            :class:`FeatureConsistencyLoss`.
        feature_dropout (float): 0 (default): ``z`` is the frame's own
            logits. In (0, 1): ``z`` is the decode head re-run on the
            frame's segmentation features after channel dropout of this rate
            (UniMatch's feature perturbation, Yang et al., CVPR 2023; 0.5
            there): a perturbed student pulled towards the clean target, so
            that the consistency has something to correct even where the
            two frames are alike.
        target (str): ``'partner'`` (default, EFC): the partner's prediction
            warped by the flow. ``'self'``: the frame's own clean
            prediction, no flow, no warp (the control that tells what the
            temporal partner adds; needs ``feature_dropout > 0`` and
            ``occlusion_mask=False``, and no flow branch).
    """

    def __init__(self, loss_weight: float = 0.1,
                 loss_name: str = 'loss_cons', divergence: str = 'kl',
                 confidence: float = 0.0, temperature: float = 1.0,
                 occlusion_mask: bool = True, frames: str = 'all',
                 weight_schedule: Optional[dict] = _DEFAULT_SCHEDULE,
                 grad_to: Optional[Sequence[str]] = None,
                 feature_dropout: float = 0.0,
                 target: str = 'partner') -> None:
        super().__init__(loss_weight, loss_name,
                         occlusion_mask=occlusion_mask, level='seg',
                         frames=frames, weight_schedule=weight_schedule,
                         grad_to=grad_to)
        check_choice('divergence', divergence, DIVERGENCES)
        if not 0.0 <= confidence < 1.0:
            raise ValueError(f'confidence must be in [0, 1), got '
                             f'{confidence!r}')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature!r}')
        if not 0.0 <= feature_dropout < 1.0:
            raise ValueError(f'feature_dropout must be in [0, 1), got '
                             f'{feature_dropout!r}')
        check_choice('target', target, ('partner', 'self'))
        if target == 'self' and (feature_dropout == 0 or occlusion_mask):
            raise ValueError(
                "OutputConsistencyLoss(target='self') compares a frame with "
                'itself: it needs feature_dropout > 0 (else the loss is 0) '
                f'and occlusion_mask=False (got feature_dropout='
                f'{feature_dropout!r}, occlusion_mask={occlusion_mask!r})')
        self.divergence = divergence
        self.confidence = float(confidence)
        self.temperature = float(temperature)
        self.feature_dropout = float(feature_dropout)
        self.target = target

    def check_model(self, model) -> None:
        """As :class:`FeatureConsistencyLoss`; ``target='self'`` needs no
        flow."""
        if self.target == 'partner':
            super().check_model(model)

    def _student(self, ctx, feat: Tensor) -> Tensor:
        """The frame's logits, or with ``feature_dropout`` the decode head
        on its dropped-out features."""
        if self.feature_dropout > 0:
            return ctx.perturbed_seg_logits(self.feature_dropout)
        return feat

    def forward(self, ctx) -> dict:
        """``{loss_name: term}``: towards the warped partner (the
        :class:`FeatureConsistencyLoss` path), or with ``target='self'``
        towards the frame's own clean logits (no flow; the two halves of the
        batch summed like the two directions)."""
        if self.target == 'partner':
            return super().forward(ctx)
        feat = ctx.seg_logits
        valid = None
        if self.frames == 'unlabelled':
            valid = (1 - ctx.labelled_mask()).expand(
                -1, 1, *feat.shape[-2:]).contiguous()
        inputs = (self.route(self._student(ctx, feat), 'seg'),
                  self.route(feat, 'target'), None, valid)
        # both halves of the batch, as the partner path sums both directions
        return {self.loss_name: self.sum_directions(ctx, -1, inputs)}

    def _features(self, ctx) -> Tensor:
        return ctx.seg_logits

    def pixel_loss(self, logits: Tensor, target: Tensor) -> Tensor:
        """``(N, 1, H, W)`` divergence of ``logits`` from the target
        logits ``target`` (see the class docstring); the occlusion and
        valid masks, the confidence mask (:meth:`pixel_mask`) and the mean
        are :meth:`FeatureConsistencyLoss.compute`'s."""
        if self.divergence == 'logit_mse':
            return (logits - target).pow(2).mean(1, keepdim=True)
        if self.divergence == 'ce':
            pseudo = target.argmax(1)
            return F.cross_entropy(logits, pseudo,
                                   reduction='none').unsqueeze(1)
        t = self.temperature
        log_p = F.log_softmax(target / t, dim=1)
        log_q = F.log_softmax(logits / t, dim=1)
        return (log_p.exp() * (log_p - log_q)).sum(1, keepdim=True)

    def pixel_mask(self, logits_warped: Tensor) -> Optional[Tensor]:
        """Pixels whose target confidence ``max_c p'_c`` reaches
        ``confidence`` (None when ``confidence`` is 0)."""
        if self.confidence <= 0:
            return None
        conf = F.softmax(logits_warped.detach(), dim=1).amax(1, True)
        return (conf >= self.confidence).to(logits_warped.dtype)
