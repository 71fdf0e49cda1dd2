"""Occlusion estimation loss against the range-map target, EFC eq. 4."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from efc_mm.registry import MODELS
from efc_mm.structures import swap_pair
from .utils import (BaseEFCLoss, check_choice, check_map, check_same,
                    valid_mean)

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

    :meth:`forward` builds the target of each direction from the opposite
    direction's flow (detached) with ``threshold`` and ``target``.

    Args:
        alpha (float): 0.2.
        loss_weight (float): 0.4 (lambda_occ).
        loss_name (str): ``'loss_occ'``.
        threshold (float): range-map mass below which a pixel is occluded
            (**decision** of EFC_METHOD.md, 0.2 as in peers' code).
        target (str): ``'hard'`` (``Ô = [mass < threshold]``, the paper) or
            ``'soft'`` (``Ô = 1 - clamp(mass, 0, 1)``).
        **kwargs: ``level_weights`` (``'finest'``, the default, or
            ``'all'``, the paper), ``weight_schedule`` and ``grad_to``
            (``('occ', )``, the only output it reads): see
            :class:`BaseEFCLoss`.
    """

    READS = ('occ', )
    DEFAULT_GRAD_TO = ('occ', )

    def __init__(self, alpha: float = 0.2, loss_weight: float = 0.4,
                 loss_name: str = 'loss_occ', threshold: float = 0.2,
                 target: str = 'hard', **kwargs) -> None:
        super().__init__(loss_weight, loss_name, **kwargs)
        check_choice('target', target, ('hard', 'soft'))
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f'threshold must be in (0, 1], got {threshold}')
        self.alpha = alpha
        self.threshold = threshold
        self.target = target

    def make_target(self, flow_bw: Tensor) -> Tensor:
        """``Ô`` from the opposite flow ``F_{i+t->i}`` (no gradient)."""
        from efc_mm.ops import occlusion_from_range_map, range_map
        if self.target == 'soft':
            return 1.0 - range_map(flow_bw.detach()).clamp(0, 1)
        return occlusion_from_range_map(flow_bw, threshold=self.threshold)

    def compute(self,
                occ_est: Tensor,
                occ_target: Tensor,
                valid: Optional[Tensor] = None) -> Tensor:
        """Eq. 4 on given maps, times the current weight (scalar).

        Args:
            occ_est (Tensor): ``(N, 1, H, W)`` O_est in [0, 1] (sigmoid).
            occ_target (Tensor): ``(N, 1, H, W)`` Ô in [0, 1].
            valid (Tensor, optional): ``(N, 1, H, W)`` valid pixels.
        """
        check_same(occ_est, occ_target, ('occ_est', 'occ_target'))
        check_map(occ_est, 'occ_est', occ_est, channels=1)
        if valid is not None:
            check_map(valid, 'valid', occ_est, channels=1)
        # F.binary_cross_entropy (logs clamped at -100, finite gradients at
        # O_est = 0 or 1, where a hand-written log gives 0/0 = NaN in the
        # backward pass) on the finite entries; a NaN O_est still reaches
        # the result through the exp term, so the step's finite check names
        # it instead of the BCE kernel raising
        finite = torch.isfinite(occ_est)
        safe = torch.where(finite, occ_est, torch.full_like(occ_est, 0.5))
        # at least float32 and outside autocast: CUDA autocast refuses
        # F.binary_cross_entropy ("unsafe to autocast"), which broke AMP
        # training (AmpOptimWrapper) on the GPU
        dtype = torch.promote_types(occ_est.dtype, torch.float32)
        with torch.autocast(device_type=occ_est.device.type, enabled=False):
            bce = F.binary_cross_entropy(
                safe.to(dtype), occ_target.detach().to(dtype),
                reduction='none')
            value = bce - self.alpha * (-occ_est.to(dtype)).exp()
        return self.current_weight * valid_mean(value, valid)

    def level_inputs(self, ctx, level: int) -> tuple:
        """``(O_est, Ô)`` of ``level``; the target of each direction comes
        from the opposite direction's flow (detached)."""
        target = self.make_target(swap_pair(ctx.level_flow(level)).detach())
        return self.route(ctx.occlusion(level), 'occ'), target
