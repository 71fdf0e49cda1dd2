"""Pure metric functions (torch or numpy in, same kind out).

Shared by the metrics in :mod:`efc_mm.evaluation.metrics`, the demo and the
benches. Conventions follow ``docs/design.md``:

* flow is channel-first ``(2, H, W)`` (or batched ``(N, 2, H, W)``), in
  pixels, channel 0 = u (x), channel 1 = v (y);
* masks (valid, occlusion) are ``(H, W)`` or ``(1, H, W)``, values in
  {0, 1}; a mask value ``>= 0.5`` counts as set (as in mmflow);
* label maps are integer ``(H, W)`` (a leading singleton dim is accepted).

Every function accepts ``torch.Tensor`` or ``np.ndarray`` and returns the
same kind it was given (torch inputs keep their device).

References:
    * Fl (flow outliers): Menze & Geiger, "Object Scene Flow for Autonomous
      Vehicles", CVPR 2015 / the KITTI 2015 devkit: a pixel is an outlier
      when its end-point error is > 3 px **and** > 5 % of the ground-truth
      flow magnitude.
    * Temporal consistency (TC): Liu, Shen, Yu, Wang, Yan, "Efficient
      Semantic Video Segmentation with Per-frame Inference", ECCV 2020 (ETC):
      the mIoU between the prediction of frame t and the prediction of frame
      t+1 warped into frame t by optical flow.
"""
from typing import Dict, Optional, Tuple, Union

import numpy as np
import torch

ArrayLike = Union[torch.Tensor, np.ndarray]

#: Middlebury ``.flo`` marks unknown flow with values around 1e9 or more
#: (``UNKNOWN_FLOW_THRESH`` of the Middlebury code); such pixels are invalid.
UNKNOWN_FLOW_THRESH = 1e9

__all__ = [
    'UNKNOWN_FLOW_THRESH', 'epe_map', 'flow_outliers', 'known_flow_mask',
    'flow_error_stats', 'occlusion_stats', 'warp_labels_nearest',
    'tc_intersect_union', 'iou_from_intersect_union'
]


def _to_tensor(x: ArrayLike) -> Tuple[torch.Tensor, bool]:
    """Return ``(tensor, was_numpy)``."""
    if isinstance(x, torch.Tensor):
        return x, False
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x)), True
    raise TypeError(f'expected a torch.Tensor or np.ndarray, got {type(x)}')


def _back(x: torch.Tensor, numpy: bool) -> ArrayLike:
    return x.cpu().numpy() if numpy else x


def _as_flow(flow: torch.Tensor, name: str) -> torch.Tensor:
    if flow.dim() < 3 or flow.shape[-3] != 2:
        raise ValueError(f'{name} must be (2, H, W) or (N, 2, H, W) '
                         f'(channel-first, u then v), got {tuple(flow.shape)}')
    return flow


def _as_map(mask: torch.Tensor, shape: Tuple[int, int],
            name: str) -> torch.Tensor:
    """``(H, W)`` / ``(1, H, W)`` (/ ``(N, 1, H, W)``) -> ``(..., H, W)``."""
    if mask.dim() >= 3 and mask.shape[-3] == 1:
        mask = mask.squeeze(-3)
    if tuple(mask.shape[-2:]) != tuple(shape):
        raise ValueError(f'{name} has spatial shape {tuple(mask.shape[-2:])}, '
                         f'expected {tuple(shape)}')
    return mask


def epe_map(pred: ArrayLike, gt: ArrayLike) -> ArrayLike:
    """End-point error per pixel, ``||pred - gt||_2``.

    Args:
        pred, gt: flow ``(2, H, W)`` or ``(N, 2, H, W)``, same shape.

    Returns:
        ``(H, W)`` (or ``(N, H, W)``) float map.
    """
    p, numpy = _to_tensor(pred)
    g, _ = _to_tensor(gt)
    _as_flow(p, 'pred flow')
    _as_flow(g, 'gt flow')
    if p.shape != g.shape:
        raise ValueError(f'pred flow {tuple(p.shape)} and gt flow '
                         f'{tuple(g.shape)} differ in shape')
    p = p.to(g.device).double()
    g = g.double()
    return _back(torch.sqrt(((p - g)**2).sum(dim=-3)), numpy)


def flow_outliers(epe: ArrayLike,
                  gt: ArrayLike,
                  abs_thr: float = 3.0,
                  rel_thr: float = 0.05) -> ArrayLike:
    """KITTI outlier map: ``epe > abs_thr`` **and** ``epe > rel_thr * |gt|``.

    This is the KITTI 2015 devkit's definition (Fl); a pixel is an inlier
    when its error is below 3 px *or* below 5 % of the true flow magnitude.

    Args:
        epe: ``(H, W)`` end-point error map (see :func:`epe_map`).
        gt: ground-truth flow ``(2, H, W)`` (or batched).
        abs_thr (float): absolute threshold in pixels. Defaults to 3.
        rel_thr (float): relative threshold. Defaults to 0.05.

    Returns:
        bool map shaped like ``epe``.
    """
    e, numpy = _to_tensor(epe)
    g, _ = _to_tensor(gt)
    _as_flow(g, 'gt flow')
    mag = torch.sqrt((g.double()**2).sum(dim=-3)).to(e.device)
    if mag.shape != e.shape:
        raise ValueError(f'epe map {tuple(e.shape)} does not match gt flow '
                         f'{tuple(g.shape)}')
    out = (e > abs_thr) & (e > rel_thr * mag)
    return _back(out, numpy)


def known_flow_mask(gt: ArrayLike,
                    thresh: float = UNKNOWN_FLOW_THRESH) -> ArrayLike:
    """Pixels whose ground-truth flow is finite and below the Middlebury
    'unknown' threshold (``|u|, |v| < 1e9``). ``(H, W)`` bool."""
    g, numpy = _to_tensor(gt)
    _as_flow(g, 'gt flow')
    ok = torch.isfinite(g).all(dim=-3) & (g.abs() < thresh).all(dim=-3)
    return _back(ok, numpy)


def flow_error_stats(pred: ArrayLike,
                     gt: ArrayLike,
                     valid: Optional[ArrayLike] = None,
                     occ: Optional[ArrayLike] = None,
                     abs_thr: float = 3.0,
                     rel_thr: float = 0.05) -> Dict[str, float]:
    """Sums one image contributes to EPE / Fl (all and noc).

    Args:
        pred, gt: flow ``(2, H, W)``.
        valid: optional ``(H, W)`` / ``(1, H, W)`` mask where ``gt`` is
            defined (sparse KITTI GT); ``None`` = every pixel with known flow
            (dense GT). Pixels whose ``gt`` is non-finite or >= 1e9 (the
            Middlebury 'unknown' value) are always invalid.
        occ: optional occlusion mask (1 = occluded). ``noc = valid & ~occ``.
            ``None``: no noc statistics (``n_noc`` is 0 and ``has_noc`` is
            False).

    Returns:
        dict of floats: ``n_all``, ``epe_all`` (sum of EPE over valid
        pixels), ``out_all`` (number of Fl outliers), the same three with
        ``_noc``, and ``has_noc`` (1.0 / 0.0).
    """
    p, _ = _to_tensor(pred)
    g, _ = _to_tensor(gt)
    if p.dim() != 3 or g.dim() != 3:
        raise ValueError('flow_error_stats takes one image: flow (2, H, W); '
                         f'got pred {tuple(p.shape)}, gt {tuple(g.shape)}')
    p = p.to(g.device)
    shape = tuple(g.shape[-2:])
    known = known_flow_mask(g)
    g_clean = torch.where(known.unsqueeze(0), g.double(),
                          torch.zeros((), dtype=torch.float64,
                                      device=g.device))
    epe = epe_map(p, g_clean)
    out = flow_outliers(epe, g_clean, abs_thr, rel_thr)
    if valid is None:
        vmask = known
    else:
        v, _ = _to_tensor(valid)
        vmask = (_as_map(v.to(g.device), shape, 'valid mask') >= 0.5) & known
    stats = dict(
        n_all=float(vmask.sum()),
        epe_all=float(epe[vmask].sum()),
        out_all=float(out[vmask].sum()),
        has_noc=0.0, n_noc=0.0, epe_noc=0.0, out_noc=0.0)
    if occ is not None:
        o, _ = _to_tensor(occ)
        nmask = vmask & ~(_as_map(o.to(g.device), shape, 'occlusion mask')
                          >= 0.5)
        stats.update(
            has_noc=1.0,
            n_noc=float(nmask.sum()),
            epe_noc=float(epe[nmask].sum()),
            out_noc=float(out[nmask].sum()))
    return stats


def occlusion_stats(pred_occ: ArrayLike,
                    gt_occ: ArrayLike,
                    valid: Optional[ArrayLike] = None,
                    threshold: float = 0.5) -> Dict[str, float]:
    """Confusion counts of a predicted occlusion map against the GT one.

    ``pred_occ`` (probability in [0, 1]) is binarised at ``threshold``
    (``>=`` is occluded); ``gt_occ`` at 0.5. Only ``valid`` pixels count.

    Returns:
        dict of floats ``tp``, ``fp``, ``fn``, ``tn`` (positive = occluded).
    """
    po, _ = _to_tensor(pred_occ)
    go, _ = _to_tensor(gt_occ)
    shape = tuple(go.shape[-2:])
    go = _as_map(go, shape, 'gt occlusion') >= 0.5
    po = _as_map(po.to(go.device), shape, 'pred occlusion') >= threshold
    if valid is None:
        m = torch.ones_like(go)
    else:
        v, _ = _to_tensor(valid)
        m = _as_map(v.to(go.device), shape, 'valid mask') >= 0.5
    return dict(
        tp=float((po & go & m).sum()),
        fp=float((po & ~go & m).sum()),
        fn=float((~po & go & m).sum()),
        tn=float((~po & ~go & m).sum()))


def warp_labels_nearest(labels: ArrayLike,
                        flow: ArrayLike,
                        fill: int = 255) -> Tuple[ArrayLike, ArrayLike]:
    """Backward-warp a label map with nearest-neighbour sampling.

    ``out(p) = labels(round(p + flow(p)))``: with ``labels`` the prediction
    of frame t+1 and ``flow`` the flow t -> t+1, ``out`` is frame t+1's
    labels brought onto frame t's grid (ETC's TC protocol). Rounding is
    half-up (``floor(x + 0.5)``); a pixel whose rounded target falls outside
    ``[0, W-1] x [0, H-1]`` (or whose flow is not finite) is out of frame:
    it gets ``fill`` and ``inside`` False.

    Args:
        labels: ``(H, W)`` (or ``(1, H, W)``) integer labels of frame t+1.
        flow: ``(2, H, W)`` flow from frame t to frame t+1, in pixels.
        fill (int): label for out-of-frame pixels. Defaults to 255.

    Returns:
        tuple: ``warped`` ``(H, W)`` labels (dtype of ``labels``) and
        ``inside`` ``(H, W)`` bool.
    """
    lab, numpy = _to_tensor(labels)
    f, _ = _to_tensor(flow)
    if lab.dim() == 3 and lab.shape[0] == 1:
        lab = lab[0]
    if lab.dim() != 2:
        raise ValueError(f'labels must be (H, W) or (1, H, W), got '
                         f'{tuple(lab.shape)}')
    if f.dim() != 3 or f.shape[0] != 2:
        raise ValueError(f'flow must be (2, H, W), got {tuple(f.shape)}')
    h, w = lab.shape
    if tuple(f.shape[1:]) != (h, w):
        raise ValueError(f'flow {tuple(f.shape)} and labels {(h, w)} differ '
                         'in spatial size')
    f = f.to(lab.device).double()
    ys, xs = torch.meshgrid(
        torch.arange(h, device=lab.device, dtype=torch.float64),
        torch.arange(w, device=lab.device, dtype=torch.float64),
        indexing='ij')
    tx = xs + f[0]
    ty = ys + f[1]
    finite = torch.isfinite(tx) & torch.isfinite(ty)
    tx = torch.floor(torch.where(finite, tx, torch.full_like(tx, -1)) + 0.5)
    ty = torch.floor(torch.where(finite, ty, torch.full_like(ty, -1)) + 0.5)
    inside = finite & (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    xi = tx.clamp(0, w - 1).long()
    yi = ty.clamp(0, h - 1).long()
    warped = lab[yi, xi]
    warped = torch.where(inside, warped, torch.full_like(warped, fill))
    return _back(warped, numpy), _back(inside, numpy)


def tc_intersect_union(pred: ArrayLike,
                       pred_warped: ArrayLike,
                       num_classes: int,
                       mask: Optional[ArrayLike] = None,
                       ignore_index: int = 255) -> Tuple[ArrayLike, ArrayLike]:
    """Per-class intersection and union of two label maps (ETC's TC).

    The two maps play symmetric roles (neither is ground truth): for class c,
    ``I_c = #{p: a(p) = c and b(p) = c}``, ``U_c = #{p: a(p) = c or
    b(p) = c}``, over pixels in ``mask`` where neither map is
    ``ignore_index`` (labels outside ``[0, num_classes)`` are ignored too).

    Returns:
        tuple: ``intersect``, ``union``, each ``(num_classes,)`` float64.
    """
    a, numpy = _to_tensor(pred)
    b, _ = _to_tensor(pred_warped)
    a = a.squeeze(0) if a.dim() == 3 else a
    b = b.squeeze(0) if b.dim() == 3 else b
    b = b.to(a.device)
    if a.shape != b.shape:
        raise ValueError(f'label maps differ in shape: {tuple(a.shape)} vs '
                         f'{tuple(b.shape)}')
    a = a.long()
    b = b.long()
    keep = ((a != ignore_index) & (b != ignore_index) & (a >= 0) &
            (a < num_classes) & (b >= 0) & (b < num_classes))
    if mask is not None:
        m, _ = _to_tensor(mask)
        m = m.to(a.device)
        m = m.squeeze(0) if m.dim() == 3 else m
        if m.shape != a.shape:
            raise ValueError(f'mask {tuple(m.shape)} does not match label '
                             f'maps {tuple(a.shape)}')
        keep &= m.bool() if m.dtype == torch.bool else m >= 0.5
    a = a[keep]
    b = b[keep]
    inter = torch.bincount(a[a == b], minlength=num_classes).double()
    area_a = torch.bincount(a, minlength=num_classes).double()
    area_b = torch.bincount(b, minlength=num_classes).double()
    union = area_a + area_b - inter
    return _back(inter, numpy), _back(union, numpy)


def iou_from_intersect_union(intersect: ArrayLike,
                             union: ArrayLike) -> float:
    """Mean IoU over the classes with a non-empty union (NaN if none)."""
    i, _ = _to_tensor(intersect)
    u, _ = _to_tensor(union)
    present = u > 0
    if not bool(present.any()):
        return float('nan')
    return float((i[present].double() / u[present].double()).mean())
