"""Occlusion-masked temporal consistency loss, EFC eq. 2."""
from __future__ import annotations

from typing import Optional, Union

import torch.nn.functional as F
from torch import Tensor

from efc_mm.registry import MODELS
from .utils import BaseEFCLoss, check_map, check_same, valid_mean

__all__ = ['FeatureConsistencyLoss']


@MODELS.register_module()
class FeatureConsistencyLoss(BaseEFCLoss):
    r"""Temporal consistency of shared-encoder features (EFC eq. 2).

    .. math::
        L_{cons} = \operatorname{mean}_{p \in valid}
            (1 - O_{est}(p)) \, \frac{1}{C} \| S'(p) - S(p) \|_2^2       \quad (2)

    with ``S'`` the neighbour's features warped into this frame by the flow
    (``S'_i = Warp(S_{i+t}, F_{i->i+t})``). Held by
    :class:`~efc_mm.models.segmentors.EFCSegmentor` (``loss_consistency``),
    which picks the features and the flow; the options below say how.

    Decisions:

    * the mask ``1 - O_est`` is **detached**: otherwise the cheapest way to
      lower the loss is to call everything occluded;
    * the squared difference is averaged over channels (so the weight does
      not depend on the encoder's width) and over valid pixels.

    Args:
        loss_weight (float): 10.0 (lambda_cons).
        loss_name (str): ``'loss_cons'``.
        occlusion_mask (bool): weight by ``1 - O_est`` ("OM" in Table 1;
            needs the flow decoder's occlusion loss). Default True.
        level (int | str): which features: an index into the shared
            encoder's levels (``-1``: the deepest shared level, the paper's
            choice), or ``'seg'``: the segmentation's class probabilities
            (softmax of the decode head's logits), a consistency of outputs
            rather than of features.
        normalize (bool): L2-normalise each pixel's feature vector before
            comparing (the loss then cannot fall by shrinking features).
            Default False (paper).
        stop_grad (str): ``'none'`` (paper: the gradient reaches both frames'
            features and, through the warp, the flow) or ``'warped'`` (the
            warped neighbour ``S'`` is a constant target: each frame is pulled
            towards its neighbour, never the neighbour towards it through the
            same term).
        frames (str): ``'all'`` (paper: every frame of every pair is pulled
            towards its warped neighbour) or ``'unlabelled'``: only frames
            without a label are (a labelled frame is taught by its label, not
            by its neighbour; the owner masks labelled frames out).
        detach_flow (bool): no gradient from this loss into the flow.
            Default False (paper: L_cons also trains the flow, "TC" in
            Table 2).
        weight_schedule: see :class:`BaseEFCLoss` (e.g. a warm-up that
            switches the loss on once the flow is useful).
    """

    def __init__(self, loss_weight: float = 10.0,
                 loss_name: str = 'loss_cons', occlusion_mask: bool = True,
                 level: Union[int, str] = -1, normalize: bool = False,
                 stop_grad: str = 'none', frames: str = 'all',
                 detach_flow: bool = False,
                 weight_schedule: Optional[dict] = None) -> None:
        super().__init__(loss_weight=loss_weight, loss_name=loss_name,
                         weight_schedule=weight_schedule)
        if not (isinstance(level, int) or level == 'seg'):
            raise ValueError(f"level must be an int (shared-encoder level) or "
                             f"'seg', got {level!r}")
        if stop_grad not in ('none', 'warped'):
            raise ValueError(f"stop_grad must be 'none' or 'warped', got "
                             f'{stop_grad!r}')
        self.occlusion_mask = occlusion_mask
        self.level = level
        self.normalize = normalize
        if frames not in ('all', 'unlabelled'):
            raise ValueError(f"frames must be 'all' or 'unlabelled', got "
                             f'{frames!r}')
        self.stop_grad = stop_grad
        self.frames = frames
        self.detach_flow = detach_flow

    def forward(self,
                feat: Tensor,
                feat_warped: Tensor,
                occ_est: Optional[Tensor] = None,
                valid: Optional[Tensor] = None) -> Tensor:
        """Weighted loss (scalar).

        Args:
            feat (Tensor): ``(N, C, H, W)`` features S of frame i.
            feat_warped (Tensor): ``(N, C, H, W)`` warped neighbour features.
            occ_est (Tensor, optional): ``(N, 1, H, W)`` O_est (None: 0).
            valid (Tensor, optional): ``(N, 1, H, W)`` valid pixels.
        """
        check_same(feat, feat_warped, ('feat', 'feat_warped'))
        if self.stop_grad == 'warped':
            feat_warped = feat_warped.detach()
        if self.normalize:
            feat = F.normalize(feat, dim=1)
            feat_warped = F.normalize(feat_warped, dim=1)
        value = (feat_warped - feat).pow(2).mean(1, keepdim=True)
        if occ_est is not None:
            check_map(occ_est, 'occ_est', feat, channels=1)
            value = value * (1 - occ_est.detach())
        if valid is not None:
            check_map(valid, 'valid', feat, channels=1)
        return self.current_weight * valid_mean(value, valid)
