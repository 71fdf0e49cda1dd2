"""Occlusion-masked temporal consistency loss, EFC eq. 2."""
from __future__ import annotations

from typing import Optional, Sequence, Union

import torch.nn.functional as F
from torch import Tensor

from efc_mm.ops import warp
from efc_mm.registry import MODELS
from efc_mm.structures import resize_map, swap_pair
from .utils import (BaseEFCLoss, check_choice, check_map, check_same,
                    valid_mean)

__all__ = ['FeatureConsistencyLoss']

_DEFAULT_SCHEDULE = dict(begin=0.3, end=0.5)


@MODELS.register_module()
class FeatureConsistencyLoss(BaseEFCLoss):
    r"""Temporal consistency between a frame and its warped partner (EFC eq. 2).

    .. math::
        L_{cons} = \operatorname{mean}_{p \in valid}
            (1 - O_{est}(p)) \, \frac{1}{C} \| S'(p) - S(p) \|_2^2       \quad (2)

    with ``S'`` the partner's features warped into this frame by the flow
    (``S'_i = Warp(S_{i+t}, F_{i->i+t})``), both directions of every pair.
    The flow is the decoder level of the features' size (else the finest,
    resized), in pixels of that grid.

    Decisions:

    * the mask ``1 - O_est`` is **detached**: otherwise the cheapest way to
      lower the loss is to call everything occluded;
    * the squared difference is averaged over channels (so the weight does
      not depend on the encoder's width) and over valid pixels.

    The defaults are efc_mm's: consistency of the segmentation's class
    probabilities (``level='seg'``) with the warped partner as a constant
    target (``grad_to=('seg', )``), switched on after the flow's warm-up (30
    % -> 50 % of the run). Feature-level L_cons at weight 10 from the first
    step, with gradients everywhere (the paper's letter,
    ``configs/_base_/models/efc_paper.py``), made the shared features ignore
    motion and cost mIoU even with the true flow (docs/results.md).

    Args:
        loss_weight (float): 10.0 (lambda_cons).
        loss_name (str): ``'loss_cons'``.
        occlusion_mask (bool): weight by ``1 - O_est`` ("OM" in Table 1;
            needs trained occlusion heads). Default True.
        level (int | str): which features: ``'seg'`` (default): the
            segmentation's class probabilities (softmax of the decode head's
            logits); or an index into the shared encoder's levels (``-1``:
            the deepest shared level, the paper's choice).
        normalize (bool): L2-normalise each pixel's feature vector before
            comparing (the loss then cannot fall by shrinking features).
            Default False.
        frames (str): ``'all'`` (every frame of every pair is pulled towards
            its warped partner) or ``'unlabelled'``: only frames without a
            label are (a labelled frame is taught by its label).
        weight_schedule (dict | None): default ``dict(begin=0.3, end=0.5)``
            (fractions of the run); see :class:`BaseEFCLoss`.
        grad_to (Sequence[str]): any of ``'seg'`` (the frame's own ``S``),
            ``'target'`` (the partner's features inside ``S'``) and
            ``'flow'`` (the warp: "TC" of Table 2, L_cons training the flow).
            Default ``('seg', )``; the paper ``('seg', 'target', 'flow')``.
    """

    READS = ('seg', 'target', 'flow')
    DEFAULT_GRAD_TO = ('seg', )

    def __init__(self, loss_weight: float = 10.0,
                 loss_name: str = 'loss_cons', occlusion_mask: bool = True,
                 level: Union[int, str] = 'seg', normalize: bool = False,
                 frames: str = 'all',
                 weight_schedule: Optional[dict] = _DEFAULT_SCHEDULE,
                 grad_to: Optional[Sequence[str]] = None) -> None:
        super().__init__(loss_weight, loss_name,
                         weight_schedule=weight_schedule, grad_to=grad_to)
        if not (isinstance(level, int) or level == 'seg'):
            raise ValueError(f"level must be an int (shared-encoder level) or "
                             f"'seg', got {level!r}")
        check_choice('frames', frames, ('all', 'unlabelled'))
        self.occlusion_mask = occlusion_mask
        self.level = level
        self.normalize = normalize
        self.frames = frames

    def check_model(self, model) -> None:
        """A flow to warp with, trained occlusion heads for the mask, a
        shared level that exists, a trainable flow for ``'flow'``."""
        name = type(self).__name__
        if not model.with_flow:
            raise ValueError(f'{name} needs a flow to warp with, but the '
                             'model has no flow_decoder')
        if self.occlusion_mask and not model.occlusion_trained:
            raise ValueError(
                f'{name}.occlusion_mask=True uses O_est, but '
                'no OcclusionLoss trains the occlusion heads: add one, or set '
                'occlusion_mask=False')
        n = model.shared_index + 1
        if isinstance(self.level, int) and not -n <= self.level < n:
            raise ValueError(
                f'{name}.level={self.level}: the shared '
                f'encoder ({model.stages.names[:n]}) gives {n} levels')
        if 'flow' in self.grad_to and model.flow_decoder.frozen:
            raise ValueError(
                f"{name}.grad_to names 'flow', but the flow "
                'decoder is frozen (TCC_fix): drop it from grad_to')

    def compute(self,
                feat: Tensor,
                feat_warped: Tensor,
                occ_est: Optional[Tensor] = None,
                valid: Optional[Tensor] = None) -> Tensor:
        """Eq. 2 on given maps, times the current weight (scalar).

        Args:
            feat (Tensor): ``(N, C, H, W)`` features S of frame i.
            feat_warped (Tensor): ``(N, C, H, W)`` warped partner features.
            occ_est (Tensor, optional): ``(N, 1, H, W)`` O_est (None: 0),
                used as a constant.
            valid (Tensor, optional): ``(N, 1, H, W)`` valid pixels.
        """
        check_same(feat, feat_warped, ('feat', 'feat_warped'))
        value = self.pixel_loss(feat, feat_warped)
        if occ_est is not None:
            check_map(occ_est, 'occ_est', feat, channels=1)
            value = value * (1 - occ_est.detach())
        if valid is not None:
            check_map(valid, 'valid', feat, channels=1)
        keep = self.pixel_mask(feat_warped)
        if keep is not None:
            valid = keep if valid is None else valid * keep
        return self.current_weight * valid_mean(value, valid)

    def pixel_loss(self, feat: Tensor, feat_warped: Tensor) -> Tensor:
        """``(N, 1, H, W)`` per-pixel term of eq. 2: the squared difference
        averaged over channels (after L2 normalisation if ``normalize``)."""
        if self.normalize:
            feat = F.normalize(feat, dim=1)
            feat_warped = F.normalize(feat_warped, dim=1)
        return (feat_warped - feat).pow(2).mean(1, keepdim=True)

    def pixel_mask(self, feat_warped: Tensor) -> Optional[Tensor]:
        """Extra ``(N, 1, H, W)`` mask of the pixels to keep, from the
        target (None: every valid pixel; subclasses add e.g. confidence)."""
        return None

    def _features(self, ctx) -> Tensor:
        if self.level == 'seg':
            return ctx.seg_logits.softmax(dim=1)
        return ctx.shared[self.level]

    def forward(self, ctx) -> dict:
        """``{loss_name: L_cons}`` of both directions."""
        feat = self._features(ctx)
        size = feat.shape[-2:]
        lvl, flow = ctx.flow_at(size)
        feat_w, valid = warp(swap_pair(self.route(feat, 'target')),
                             self.route(flow, 'flow'))
        occ = None
        if self.occlusion_mask:
            occ = resize_map(ctx.occlusion(lvl), size).detach()
        if self.frames == 'unlabelled':
            valid = valid * (1 - ctx.labelled_mask())
        inputs = (self.route(self._student(ctx, feat), 'seg'), feat_w, occ,
                  valid)
        return {self.loss_name: self.sum_directions(ctx, lvl, inputs)}

    def _student(self, ctx, feat: Tensor) -> Tensor:
        """The maps pulled towards the warped partner: ``feat`` itself
        (subclasses may perturb them)."""
        return feat
