"""Occlusion-masked temporal feature consistency loss, EFC eq. 2."""
from __future__ import annotations

from typing import Optional

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
    (``S'_i = Warp(S_{i+t}, F_{i->i+t})``). Decisions:

    * the mask ``1 - O_est`` is **detached**: otherwise the cheapest way to
      lower the loss is to call everything occluded;
    * the squared difference is averaged over channels (so the weight 10
      does not depend on the encoder's width) and over valid pixels;
    * the gradient flows into both ``S`` and ``S'``, and through the warp
      into the flow (the paper's joint training: segmentation features teach
      the flow and vice versa).

    Args:
        loss_weight (float): 10.0 (lambda_cons).
        loss_name (str): ``'loss_cons'``.
    """

    def __init__(self, loss_weight: float = 10.0,
                 loss_name: str = 'loss_cons') -> None:
        super().__init__(loss_weight=loss_weight, loss_name=loss_name)

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
        value = (feat_warped - feat).pow(2).mean(1, keepdim=True)
        if occ_est is not None:
            check_map(occ_est, 'occ_est', feat, channels=1)
            value = value * (1 - occ_est.detach())
        if valid is not None:
            check_map(valid, 'valid', feat, channels=1)
        return self.loss_weight * valid_mean(value, valid)
