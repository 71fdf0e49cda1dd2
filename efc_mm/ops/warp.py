"""Backward warping with differentiable bilinear sampling (EFC "Warp")."""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['warp', 'check_flow']


def check_flow(flow: Tensor, name: str = 'flow') -> None:
    """Raise a clear :class:`ValueError` unless ``flow`` is ``(N, 2, H, W)``
    floating point."""
    if not isinstance(flow, Tensor):
        raise ValueError(f'{name} must be a Tensor, got {type(flow).__name__}')
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f'{name} must be (N, 2, H, W) (channel 0 = u, 1 = v),'
                         f' got shape {tuple(flow.shape)}')
    if not flow.is_floating_point():
        raise ValueError(f'{name} must be floating point, got {flow.dtype}')


def _sample_positions(flow: Tensor) -> Tuple[Tensor, Tensor]:
    """Absolute sampling positions ``p + flow(p)`` in pixels, ``(N, H, W)`` each.

    The pixel grid is built on ``flow.device`` with ``flow.dtype`` (never on
    the CPU when the flow lives on a GPU).
    """
    _, _, h, w = flow.shape
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype).view(1, h, 1)
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype).view(1, 1, w)
    return xs + flow[:, 0], ys + flow[:, 1]


def warp(x: Tensor, flow: Tensor) -> Tuple[Tensor, Tensor]:
    """Backward-warp ``x`` by ``flow``: ``warped(p) = x(p + flow(p))``.

    EFC (Ding et al., AAAI 2020) uses this to bring frame i+t into frame i's
    grid, ``S'_i = Warp(S_{i+t}, F_{i->i+t})``, for the consistency (eq. 2)
    and photometric (eq. 5-6) losses.

    Sampling is bilinear (:func:`torch.nn.functional.grid_sample`,
    ``align_corners=True``) and differentiable in both ``x`` and ``flow``.
    With ``align_corners=True`` the normalised coordinate ``-1`` is the
    *centre* of pixel 0 and ``+1`` the centre of pixel ``W - 1``, so pixel
    ``px`` maps to ``2 * px / (W - 1) - 1`` exactly: a flow of +1 px moves the
    content by exactly one pixel.

    Out-of-frame samples are invalid (occluded by definition, see
    EFC_METHOD.md): ``valid`` is 0 where ``p + flow(p)`` lies outside
    ``[0, W - 1] x [0, H - 1]`` (there the bilinear sample is partly or fully
    zero padding). ``valid`` carries no gradient.

    Args:
        x (Tensor): ``(N, C, H, W)`` features or image.
        flow (Tensor): ``(N, 2, H, W)`` flow in pixels at ``x``'s resolution,
            channel 0 = u (horizontal, x), channel 1 = v (vertical, y).

    Returns:
        tuple[Tensor, Tensor]: ``warped`` ``(N, C, H, W)`` and ``valid``
        ``(N, 1, H, W)`` float in {0, 1}.

    Raises:
        ValueError: on a malformed ``flow``, or when ``x`` is not 4-D or its
            batch size or spatial size differ from the flow's.
    """
    check_flow(flow)
    if not isinstance(x, Tensor) or x.dim() != 4:
        raise ValueError('warp expects x of shape (N, C, H, W), got '
                         f'{tuple(x.shape) if isinstance(x, Tensor) else x!r}')
    if x.shape[0] != flow.shape[0] or x.shape[2:] != flow.shape[2:]:
        raise ValueError(
            f'warp: x {tuple(x.shape)} and flow {tuple(flow.shape)} must share '
            'batch size and spatial size (resize the flow and rescale its '
            'vectors first)')
    if x.device != flow.device:
        raise ValueError(f'warp: x on {x.device} but flow on {flow.device}')
    _, _, h, w = flow.shape
    px, py = _sample_positions(flow)
    # pixel -> normalised, align_corners=True: 0 -> -1, size-1 -> +1.
    # A 1-pixel axis has no extent: any finite coordinate maps to its centre.
    gx = 2.0 * px / max(w - 1, 1) - 1.0
    gy = 2.0 * py / max(h - 1, 1) - 1.0
    grid = torch.stack((gx, gy), dim=-1)
    if x.dtype != grid.dtype:
        grid = grid.to(x.dtype)
    warped = F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros',
                           align_corners=True)
    with torch.no_grad():
        valid = ((px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1))
        valid = valid.unsqueeze(1).to(x.dtype)
    return warped, valid
