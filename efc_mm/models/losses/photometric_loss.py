"""Occlusion-aware photometric loss, EFC eq. 5-6 (+ census option)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from efc_mm.ops import ssim
from efc_mm.ops import warp
from efc_mm.registry import MODELS
from efc_mm.structures import resize_map, swap_pair
from .utils import (BaseEFCLoss, check_choice, check_map, check_same,
                    valid_mean)

__all__ = ['PhotometricLoss', 'seg_occlusion_error', 'census_transform']


def seg_occlusion_error(seg_logits: Tensor, seg_logits_warped: Tensor,
                        occ_est: Tensor, valid: Optional[Tensor] = None
                        ) -> Tensor:
    """``O_error = max(O_seg - O_est, 0)`` of EFC eq. 5, without gradient.

    ``O_seg = [argmax M != argmax M']``: pixels where the frame's own
    segmentation ``M`` and the neighbour's segmentation warped by the flow
    ``M'`` disagree, i.e. where the flow (or the occlusion estimate) is wrong.
    ``O_error`` keeps only disagreements the occlusion head did not already
    explain. **decision**: it is a *weight* of the photometric loss, so it is
    computed under ``torch.no_grad`` (argmax has no gradient anyway, and
    ``O_est`` must not be pushed through this term).

    Args:
        seg_logits (Tensor): ``(N, K, H, W)`` logits (or probabilities) of
            frame i.
        seg_logits_warped (Tensor): ``(N, K, H, W)`` logits of frame i+t
            warped into frame i by ``F_{i->i+t}``.
        occ_est (Tensor): ``(N, 1, H, W)`` estimated occlusion in [0, 1].
        valid (Tensor, optional): ``(N, 1, H, W)`` warp validity; where it is
            0 the warped logits are padding, so ``O_seg`` is set to 0 there
            (those pixels are out of the photometric mean anyway).

    Returns:
        Tensor: ``(N, 1, H, W)`` in [0, 1], no gradient.
    """
    check_same(seg_logits, seg_logits_warped,
               ('seg_logits', 'seg_logits_warped'))
    check_map(occ_est, 'occ_est', seg_logits, channels=1)
    with torch.no_grad():
        o_seg = (seg_logits.argmax(1, keepdim=True) !=
                 seg_logits_warped.argmax(1, keepdim=True)).to(occ_est.dtype)
        if valid is not None:
            check_map(valid, 'valid', seg_logits, channels=1)
            o_seg = o_seg * valid.to(o_seg.dtype)
        return (o_seg - occ_est).clamp(min=0)


def census_transform(img: Tensor, patch_size: int = 7) -> Tensor:
    """Soft census transform (Meister et al., UnFlow, AAAI 2018; UFlow).

    For every pixel and every neighbour ``q`` in a ``patch_size`` square,
    ``d = I(q) - I(p)`` on the grey image scaled to [0, 255], mapped to
    ``d / sqrt(0.81 + d^2)`` (in (-1, 1), insensitive to additive and
    roughly to multiplicative brightness changes).

    Args:
        img (Tensor): ``(N, C, H, W)`` image in [0, 1].
        patch_size (int): odd neighbourhood size. Default 7.

    Returns:
        Tensor: ``(N, patch_size**2, H, W)`` (zero padding at the borders).
    """
    if patch_size % 2 != 1:
        raise ValueError(f'patch_size must be odd, got {patch_size}')
    gray = img.mean(1, keepdim=True) * 255.0
    k = patch_size * patch_size
    eye = torch.eye(k, dtype=img.dtype, device=img.device).view(
        k, 1, patch_size, patch_size)
    neigh = F.conv2d(gray, eye, padding=patch_size // 2)
    diff = neigh - gray
    return diff / torch.sqrt(0.81 + diff * diff)


@MODELS.register_module()
class PhotometricLoss(BaseEFCLoss):
    r"""Occlusion-aware photometric loss of EFC (eq. 5-6).

    .. math::
        L_{pm} = \operatorname{mean}_{p \in valid}
            G(I, I')(p) \, (1 + O_{error}(p) - O_{est}(p))            \quad (5)

        G = \beta \, \frac{1 - SSIM(I, I')}{2} + (1 - \beta) |I - I'|_1
                                                                      \quad (6)

    ``I'`` is the neighbour frame warped into this frame by the estimated
    flow, both directions of every pair, on the decoder levels that
    ``level_weights`` selects. Decisions:

    * ``SSIM`` is per pixel with a 3x3 window (:func:`efc_mm.ops.ssim`),
      ``(1 - SSIM) / 2`` is clamped to [0, 1]; both SSIM and ``|I - I'|`` are
      averaged over the colour channels, so ``G`` is in [0, 1] for images in
      [0, 1].
    * ``error='census'`` replaces G by the soft-census Hamming distance
      (UnFlow / UFlow), averaged over the 7x7 neighbours: in [0, 1).
    * ``O_est`` keeps its gradient when ``grad_to`` names ``'occ'`` (the
      paper's form): the term ``-G O_est`` rewards predicting occlusion where
      the photometric error is high; the occlusion loss (eq. 4) balances it.
    * ``O_error`` (:func:`seg_occlusion_error`) is a constant weight, from
      the detached segmentation logits and a detached flow.
    * Mean over valid pixels (``valid`` from :func:`efc_mm.ops.warp`: samples
      that left the frame are excluded).

    Args:
        beta (float): SSIM weight in G, 0.85.
        loss_weight (float): weight of this loss in the total, 1.0.
        loss_name (str): key in the loss dict, ``'loss_pm'``.
        error (str): ``'ssim_l1'`` (eq. 6) or ``'census'``.
        occlusion_weighting (bool): use ``O_est`` in the weight of eq. 5
            (needs trained occlusion heads: an ``OcclusionLoss`` beside it).
            Default True (paper).
        seg_error (bool): use ``O_error`` from the segmentation (eq. 5,
            "OE" in Table 2). Default True (paper).
        resolution (str): ``'input'`` (default): each selected level's flow
            is upsampled bilinearly to the input size and warps the
            full-resolution images (UFlow / ARFlow practice); ``'level'``:
            each level's flow warps the images area-downsampled to that level
            (the paper's multi-scale sum).
        **kwargs: ``level_weights`` (``'finest'``, the default, ``'all'``,
            the paper, or per-level weights), ``weight_schedule`` and
            ``grad_to`` (``('flow', 'occ')``, the default; ``'occ'`` only
            with ``occlusion_weighting``; or ``('flow', )``: then only L_occ
            trains the occlusion heads): see :class:`BaseEFCLoss`.
    """

    READS = ('flow', 'occ')
    DEFAULT_GRAD_TO = ('flow', 'occ')

    def __init__(self, beta: float = 0.85, loss_weight: float = 1.0,
                 loss_name: str = 'loss_pm', error: str = 'ssim_l1',
                 occlusion_weighting: bool = True, seg_error: bool = True,
                 resolution: str = 'input', **kwargs) -> None:
        if kwargs.get('grad_to') is None and not occlusion_weighting:
            kwargs['grad_to'] = ('flow', )
        super().__init__(loss_weight, loss_name, **kwargs)
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f'beta must be in [0, 1], got {beta}')
        check_choice('error', error, ('ssim_l1', 'census'))
        check_choice('resolution', resolution, ('level', 'input'))
        if 'occ' in self.grad_to and not occlusion_weighting:
            raise ValueError("PhotometricLoss: grad_to names 'occ', but "
                             'occlusion_weighting=False does not read O_est')
        self.beta = beta
        self.error = error
        self.occlusion_weighting = occlusion_weighting
        self.seg_error = seg_error
        self.resolution = resolution

    def check_model(self, model) -> None:
        """O_est must come from trained occlusion heads."""
        if self.occlusion_weighting and not model.occlusion_trained:
            raise ValueError(
                'PhotometricLoss.occlusion_weighting=True uses O_est, but no '
                'OcclusionLoss trains the occlusion heads (the -G O_est term '
                'alone pushes O_est to 1): add one, or set '
                'occlusion_weighting=False')

    def photometric_error(self, img: Tensor, img_warped: Tensor) -> Tensor:
        """``G(I, I')`` of eq. 6 (or the census distance), ``(N, 1, H, W)``."""
        if self.error == 'census':
            t1, t2 = census_transform(img), census_transform(img_warped)
            sq = (t1 - t2)**2
            return (sq / (0.1 + sq)).mean(1, keepdim=True)
        d_ssim = ((1 - ssim(img, img_warped)) / 2).clamp(0, 1)
        l1 = (img - img_warped).abs()
        return (self.beta * d_ssim + (1 - self.beta) * l1).mean(1,
                                                                keepdim=True)

    def compute(self,
                img: Tensor,
                img_warped: Tensor,
                occ_est: Optional[Tensor] = None,
                occ_error: Optional[Tensor] = None,
                valid: Optional[Tensor] = None) -> Tensor:
        """Eq. 5 on given maps, times the current weight (scalar).

        Args:
            img (Tensor): ``(N, 3, H, W)`` frame i in [0, 1].
            img_warped (Tensor): ``(N, 3, H, W)`` frame i+t warped to frame i.
            occ_est (Tensor, optional): ``(N, 1, H, W)`` O_est in [0, 1]
                (None: no occlusion term, weight ``1 + O_error``).
            occ_error (Tensor, optional): ``(N, 1, H, W)`` O_error (None: 0).
            valid (Tensor, optional): ``(N, 1, H, W)`` valid pixels.
        """
        check_same(img, img_warped, ('img', 'img_warped'))
        weight = torch.ones_like(img[:, :1])
        if occ_error is not None:
            check_map(occ_error, 'occ_error', img, channels=1)
            weight = weight + occ_error.detach()
        if occ_est is not None:
            check_map(occ_est, 'occ_est', img, channels=1)
            weight = weight - occ_est  # eq. 5: 1 + O_error - O_est
        if valid is not None:
            check_map(valid, 'valid', img, channels=1)
        loss = valid_mean(self.photometric_error(img, img_warped) * weight,
                          valid)
        return self.current_weight * loss

    def _seg_error(self, ctx, flow: Tensor, o_est: Optional[Tensor],
                   valid: Tensor) -> Tensor:
        """``O_error`` on ``flow``'s grid (eq. 5), no gradient."""
        size = flow.shape[-2:]
        seg = resize_map(ctx.seg_logits.detach(), size)
        seg_w, _ = warp(swap_pair(seg), flow.detach())
        if o_est is None:
            o_est = flow.new_zeros(flow.shape[0], 1, *size)
        return seg_occlusion_error(seg, seg_w, o_est.detach(), valid)

    def level_inputs(self, ctx, level: int) -> tuple:
        """``(I, I', O_est, O_error, valid)`` of ``level`` on the grid
        ``resolution`` picks (``O_est`` / ``O_error`` None when off)."""
        flow = self.route(ctx.flow_on(level, self.resolution), 'flow')
        img = ctx.images_for(flow)
        img_w, valid = warp(swap_pair(img), flow)
        o_est = o_err = None
        if self.occlusion_weighting:
            o_est = self.route(
                resize_map(ctx.occlusion(level), flow.shape[-2:]), 'occ')
        if self.seg_error:
            o_err = self._seg_error(ctx, flow, o_est, valid)
        return img, img_w, o_est, o_err, valid
