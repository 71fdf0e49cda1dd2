"""Occlusion estimation loss against the range-map target, EFC eq. 4."""
from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor

from efc_mm.registry import MODELS
from .utils import BaseEFCLoss, check_map, check_same, valid_mean

__all__ = ['OcclusionLoss']


@MODELS.register_module()
class OcclusionLoss(BaseEFCLoss):
    r"""Occlusion loss of EFC (eq. 4).

    .. math::
        L_{occ} = \operatorname{mean}_{p \in valid}
            BCE(O_{est}(p), \hat O(p)) - \alpha e^{-O_{est}(p)}         \quad (4)

    ``BCE(o, t) = -(t log o + (1 - t) log(1 - o))`` against the range-map
    target ``Ô`` (:func:`efc_mm.ops.occlusion_from_range_map`, 1 = occluded,
    not differentiated: it is detached here). ``-alpha exp(-O_est)`` is
    smallest at ``O_est = 0``: it penalises predicting too much occlusion and
    balances the ``-G O_est`` term of the photometric loss (eq. 5). Logs are
    clamped at -100 (``F.binary_cross_entropy``), so ``O_est`` of exactly 0
    or 1 gives a finite loss. Mean over valid pixels.

    Args:
        alpha (float): 0.2.
        loss_weight (float): 0.4 (lambda_occ).
        loss_name (str): ``'loss_occ'``.
    """

    def __init__(self, alpha: float = 0.2, loss_weight: float = 0.4,
                 loss_name: str = 'loss_occ') -> None:
        super().__init__(loss_weight=loss_weight, loss_name=loss_name)
        self.alpha = alpha

    def forward(self,
                occ_est: Tensor,
                occ_target: Tensor,
                valid: Optional[Tensor] = None) -> Tensor:
        """Weighted loss (scalar).

        Args:
            occ_est (Tensor): ``(N, 1, H, W)`` O_est in [0, 1] (sigmoid).
            occ_target (Tensor): ``(N, 1, H, W)`` Ô in {0, 1}.
            valid (Tensor, optional): ``(N, 1, H, W)`` valid pixels.
        """
        check_same(occ_est, occ_target, ('occ_est', 'occ_target'))
        check_map(occ_est, 'occ_est', occ_est, channels=1)
        if valid is not None:
            check_map(valid, 'valid', occ_est, channels=1)
        bce = F.binary_cross_entropy(
            occ_est, occ_target.detach().to(occ_est.dtype), reduction='none')
        value = bce - self.alpha * (-occ_est).exp()
        return self.loss_weight * valid_mean(value, valid)
