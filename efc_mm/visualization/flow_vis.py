"""Optical flow and occlusion as images.

Flow colours follow the Middlebury colour code of Baker et al., "A Database
and Evaluation Methodology for Optical Flow" (IJCV 2011), as in their
``flowToColor`` / ``computeColor`` C code: hue = direction on a 55-entry
colour wheel (segments red-yellow 15, yellow-green 6, green-cyan 4,
cyan-blue 11, blue-magenta 13, magenta-red 6), saturation = magnitude
(white = no motion). Directions in image coordinates (y down): +x red,
+y (down) yellow-orange, -x cyan-blue, -y (up) blue-violet. Vectors longer
than ``max_flow`` keep their hue and are darkened by 0.75.

Not mmcv's ``flow2rgb`` / ``make_color_wheel``: its wheel drops the
reference code's ``floor(255 k / n)`` (colours off by up to one level), and
``flow2rgb`` always scales by the image's own maximum (no fixed
``max_flow``) and paints unknown vectors black.
"""
from typing import Optional

import numpy as np

__all__ = ['make_colorwheel', 'flow_to_color', 'occlusion_to_image',
           'as_flow_hw2']

#: Middlebury colour wheel segment lengths.
RY, YG, GC, CB, BM, MR = 15, 6, 4, 11, 13, 6


def _ramp(n: int) -> np.ndarray:
    """``floor(255 * k / n)`` for ``k = 0 .. n-1``."""
    return np.floor(255 * np.arange(n) / n)


def make_colorwheel() -> np.ndarray:
    """The Middlebury colour wheel, ``(55, 3)`` float RGB in [0, 255].

    Row ``k`` is the colour of direction ``k / 55`` of a turn, starting at
    pure red; see the module docstring.
    """
    segments = [  # (length, channel that ramps, direction, constant channel)
        (RY, 1, +1, 0), (YG, 0, -1, 1), (GC, 2, +1, 1),
        (CB, 1, -1, 2), (BM, 0, +1, 2), (MR, 2, -1, 0)]
    wheel = np.zeros((sum(s[0] for s in segments), 3))
    col = 0
    for n, ramp_ch, sign, const_ch in segments:
        wheel[col:col + n, const_ch] = 255
        wheel[col:col + n, ramp_ch] = _ramp(n) if sign > 0 else 255 - _ramp(n)
        col += n
    return wheel


def as_flow_hw2(flow) -> np.ndarray:
    """``flow`` as a float ``(H, W, 2)`` numpy array.

    Accepts a numpy ``(H, W, 2)`` array or a torch tensor / numpy array
    ``(2, H, W)`` (mmseg/efc_mm ``PixelData`` layout).
    """
    if hasattr(flow, 'detach'):
        flow = flow.detach().cpu().numpy()
    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim != 3:
        raise ValueError(f'flow must be (H, W, 2) or (2, H, W), got shape '
                         f'{flow.shape}')
    if flow.shape[-1] == 2:
        return flow
    if flow.shape[0] == 2:
        return flow.transpose(1, 2, 0)
    raise ValueError(f'flow must be (H, W, 2) or (2, H, W), got shape '
                     f'{flow.shape}')


def _uv_to_colors(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Colour of normalised flow ``(u, v)`` (radius 1 = full saturation),
    ``(H, W, 3)`` uint8 RGB (Baker et al.'s ``computeColor``)."""
    wheel = make_colorwheel()
    ncols = wheel.shape[0]
    rad = np.sqrt(u ** 2 + v ** 2)
    angle = np.arctan2(-v, -u) / np.pi            # in [-1, 1]
    fk = (angle + 1) / 2 * (ncols - 1)            # in [0, ncols - 1]
    k0 = np.floor(fk).astype(np.int64)
    k1 = (k0 + 1) % ncols
    f = (fk - k0)[..., None]
    col = ((1 - f) * wheel[k0] + f * wheel[k1]) / 255.0
    inside = (rad <= 1)[..., None]
    col = np.where(inside, 1 - rad[..., None] * (1 - col), col * 0.75)
    return np.floor(255 * col).astype(np.uint8)


def flow_to_color(flow, max_flow: Optional[float] = None,
                  bgr: bool = False) -> np.ndarray:
    """Colour-code optical flow with the Middlebury wheel.

    Args:
        flow: ``(H, W, 2)`` numpy or ``(2, H, W)`` tensor/array, pixels,
            channel 0 = u (x, right), 1 = v (y, down).
        max_flow (float, optional): magnitude mapped to full saturation.
            None: the largest finite magnitude in ``flow`` (all-zero flow
            stays white). Longer vectors are darkened by 0.75.
        bgr (bool): return BGR (OpenCV) instead of RGB.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8, RGB unless ``bgr``. Non-finite
        vectors are drawn as zero motion (white).
    """
    flow = as_flow_hw2(flow)
    flow = np.where(np.isfinite(flow), flow, 0.0)
    u, v = flow[..., 0], flow[..., 1]
    if max_flow is None:
        max_flow = float(np.sqrt(u ** 2 + v ** 2).max()) if u.size else 0.0
    elif max_flow <= 0:
        raise ValueError(f'max_flow must be > 0, got {max_flow}')
    scale = 1.0 / (max_flow + np.finfo(np.float64).eps)
    img = _uv_to_colors(u * scale, v * scale)
    return img[..., ::-1].copy() if bgr else img


def occlusion_to_image(occ) -> np.ndarray:
    """Occlusion probability as a grey BGR image (white = occluded).

    Args:
        occ: ``(H, W)``, ``(1, H, W)`` or ``(H, W, 1)`` array/tensor in
            [0, 1] (values outside are clipped; NaN counts as 0).

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8, ``round(255 * occ)`` per channel.
    """
    if hasattr(occ, 'detach'):
        occ = occ.detach().cpu().numpy()
    occ = np.squeeze(np.asarray(occ, dtype=np.float64))
    if occ.ndim != 2:
        raise ValueError(f'occlusion map must be (H, W), (1, H, W) or '
                         f'(H, W, 1), got shape {np.shape(occ)}')
    occ = np.clip(np.nan_to_num(occ, nan=0.0), 0.0, 1.0)
    grey = np.round(255 * occ).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)
