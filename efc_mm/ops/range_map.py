"""Range map (forward splatting) and the occlusion target derived from it."""
from __future__ import annotations

import torch
from torch import Tensor

from .warp import check_flow

__all__ = ['range_map', 'occlusion_from_range_map', 'RANGE_MAP_THRESHOLD']

#: **decision** (EFC_METHOD.md, "Range-map occlusion target"): a pixel of
#: frame i whose received (clamped) mass is below this threshold has no
#: correspondence in frame i+t and is marked occluded. Peers use 0.2: a pixel
#: that receives a single bilinear corner weight below 0.2 is too weakly
#: reached to count as visible, anything well covered receives about 1.
RANGE_MAP_THRESHOLD = 0.2


def range_map(flow_bw: Tensor) -> Tensor:
    """Bilinear splat mass received by each pixel of frame i (EFC Ô, eq. 4).

    Every pixel ``q`` of frame i+t is moved to ``q + flow_bw(q)`` in frame i
    (``flow_bw`` = F_{i+t->i}) and deposits mass 1 on its four neighbours
    with bilinear weights. A corner that lands outside the image is dropped
    (the pixel has left the frame). The accumulated mass is clamped to
    ``[0, 1]``. Vectorised with :meth:`Tensor.index_add_` over the flattened
    ``N * H * W`` grid; every tensor is created on ``flow_bw.device``.

    The function is differentiable in ``flow_bw`` through the bilinear
    weights, but EFC never differentiates the target: use
    :func:`occlusion_from_range_map`, which runs under ``torch.no_grad``.

    Not mmflow's ``compute_range_map``: it allocates the mass on the CPU
    (fails for CUDA flow) and thresholds at 1 instead of returning the mass.

    Args:
        flow_bw (Tensor): ``(N, 2, H, W)`` flow from frame i+t to frame i, px.

    Returns:
        Tensor: ``(N, 1, H, W)`` mass in ``[0, 1]``, same dtype as the flow.
    """
    check_flow(flow_bw, 'flow_bw')
    n, _, h, w = flow_bw.shape
    dev, dt = flow_bw.device, flow_bw.dtype
    ys = torch.arange(h, device=dev, dtype=dt).view(1, h, 1)
    xs = torch.arange(w, device=dev, dtype=dt).view(1, 1, w)
    tx = (xs + flow_bw[:, 0]).reshape(n, -1)  # target x in frame i, (N, HW)
    ty = (ys + flow_bw[:, 1]).reshape(n, -1)
    x0 = torch.floor(tx)
    y0 = torch.floor(ty)
    fx = tx - x0  # bilinear fractions (carry the flow's gradient)
    fy = ty - y0
    x0 = x0.long()
    y0 = y0.long()
    base = (torch.arange(n, device=dev) * (h * w)).view(n, 1)
    mass = flow_bw.new_zeros(n * h * w)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):  # the 4 corners, not pixels
        cx = x0 + dx
        cy = y0 + dy
        weight = (fx if dx else 1 - fx) * (fy if dy else 1 - fy)
        inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        index = base + cy.clamp(0, h - 1) * w + cx.clamp(0, w - 1)
        # corners outside the frame are dropped: zero weight, clamped index
        mass = mass.index_add(0, index.reshape(-1),
                              (weight * inside.to(dt)).reshape(-1))
    return mass.view(n, 1, h, w).clamp(0.0, 1.0)


def occlusion_from_range_map(flow_bw: Tensor,
                             threshold: float = RANGE_MAP_THRESHOLD) -> Tensor:
    """Occlusion target Ô of frame i: 1 where the range map is below
    ``threshold`` (no pixel of frame i+t lands there), else 0.

    Computed without gradient (the target of eq. 4 is not differentiated).

    Args:
        flow_bw (Tensor): ``(N, 2, H, W)`` flow F_{i+t->i} in pixels.
        threshold (float): mass below which a pixel is occluded (default
            0.2, see :data:`RANGE_MAP_THRESHOLD`).

    Returns:
        Tensor: ``(N, 1, H, W)`` float in {0, 1}, 1 = occluded.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f'threshold must be in (0, 1], got {threshold}')
    with torch.no_grad():
        return (range_map(flow_bw.detach()) < threshold).to(flow_bw.dtype)
