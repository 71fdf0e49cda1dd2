"""Keys that make the panels readable: a flow colour-wheel key with the
magnitude of full saturation, a 0..1 scale for occlusion and a class legend.

All images are BGR uint8 (OpenCV), like :mod:`.panel`.
"""
import math
from typing import Optional, Sequence

import cv2
import numpy as np

from .flow_vis import flow_to_color

__all__ = ['flow_scale_label', 'nice_max_flow', 'colorwheel_key',
           'flow_key_strip', 'occlusion_scale_strip', 'class_legend',
           'LEGEND_MIN_LINE']

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_WHITE = (255, 255, 255)
_GREY = (110, 110, 110)
#: smallest legend line (px) at which class names stay readable
LEGEND_MIN_LINE = 10


def flow_scale_label(max_flow: float) -> str:
    """Text of the flow key: the magnitude of full saturation, e.g.
    ``'2.5 px'``, ``'0.25 px'``, ``'120 px'`` (3 significant digits)."""
    if not np.isfinite(max_flow) or max_flow <= 0:
        raise ValueError(f'max_flow must be a finite value > 0, got '
                         f'{max_flow}')
    return f'{max_flow:.3g} px'


def nice_max_flow(value: float, floor: float = 1.0) -> float:
    """``value`` rounded up to the 1-2-5 series (1, 2, 5, 10, 20, ...),
    at least ``floor``: a stable colour scale for a whole video."""
    value = max(float(value) if np.isfinite(value) else 0.0, floor)
    exp = math.floor(math.log10(value))
    for mant in (1, 2, 5, 10):
        nice = mant * 10 ** exp
        if nice >= value * (1 - 1e-9):
            return float(nice)
    return float(10 ** (exp + 1))


def colorwheel_key(diameter: int) -> np.ndarray:
    """``(d, d, 3)`` BGR disc of the flow colour code: the pixel at
    ``(x, y)`` has the colour of the vector from the centre to it, the rim
    being full saturation (``max_flow``); black outside the disc."""
    if diameter < 3:
        raise ValueError(f'diameter must be >= 3, got {diameter}')
    r = (diameter - 1) / 2.0
    yy, xx = np.mgrid[0:diameter, 0:diameter].astype(np.float64)
    flow = np.stack([(xx - r) / r, (yy - r) / r], axis=-1)
    key = flow_to_color(flow, max_flow=1.0, bgr=True)
    key[np.hypot(flow[..., 0], flow[..., 1]) > 1.0] = 0
    return key


def _text_scale(text: str, height: int, width: Optional[int] = None) -> float:
    """Font scale whose text is about ``0.6 height`` high (and fits
    ``width`` when given)."""
    scale = max(height * 0.6 / 22.0, 0.25)
    if width is not None:
        (tw, _), _ = cv2.getTextSize(text, _FONT, scale, 1)
        if tw > width:
            scale *= width / max(tw, 1)
    return scale


def _put(img, text, x, height, width=None, color=_WHITE) -> int:
    """Write ``text`` vertically centred in a strip of ``height``;
    returns the x after the text."""
    scale = _text_scale(text, height, width)
    (tw, th), _ = cv2.getTextSize(text, _FONT, scale, 1)
    y = (height + th) // 2
    cv2.putText(img, text, (int(x), int(y)), _FONT, scale, color, 1,
                cv2.LINE_AA)
    return int(x + tw)


def flow_key_strip(width: int, height: int, max_flow: float) -> np.ndarray:
    """Black ``(height, width, 3)`` strip: the colour-wheel key (diameter
    ``height - 2``) and the label ``'= <max_flow> px'``: the magnitude a
    vector needs to reach the wheel's rim (full colour)."""
    strip = np.zeros((height, width, 3), np.uint8)
    d = max(min(height - 2, width - 2), 3)
    strip[1:1 + d, 1:1 + d] = colorwheel_key(d)[:height - 1, :width - 1]
    label = flow_scale_label(max_flow)
    room = width - d - 4
    text = f'rim = {label}'
    if cv2.getTextSize(text, _FONT, _text_scale(text, height), 1)[0][0] > room:
        text = label
    if room > 4:
        _put(strip, text, d + 3, height, room)
    return strip


def occlusion_scale_strip(width: int, height: int) -> np.ndarray:
    """Black ``(height, width, 3)`` strip: ``0`` | grey ramp from black
    (0, visible) to white (1, occluded) | ``1``."""
    strip = np.zeros((height, width, 3), np.uint8)
    x0 = _put(strip, '0', 2, height) + 3
    (tw, _), _ = cv2.getTextSize('1', _FONT, _text_scale('1', height), 1)
    x1 = width - tw - 5
    if x1 - x0 < 4:
        x0, x1 = 0, width
    else:
        _put(strip, '1', x1 + 3, height)
    ramp = np.round(np.linspace(0, 255, x1 - x0)).astype(np.uint8)
    top, bottom = max(height // 5, 1), height - max(height // 5, 1)
    strip[top:bottom, x0:x1] = ramp[None, :, None]
    cv2.rectangle(strip, (x0 - 1, top - 1), (x1, bottom), (90, 90, 90), 1)
    return strip


def class_legend(classes: Sequence[str], palette, height: int,
                 present: Optional[Sequence[int]] = None,
                 max_line: int = 16) -> Optional[np.ndarray]:
    """A ``(height, W, 3)`` legend column: one line per class (colour
    swatch + name), or None when the classes do not fit ``height`` at
    :data:`LEGEND_MIN_LINE` px per line.

    Classes in ``present`` (default: all) are written in white, the others
    in grey. ``W`` depends only on the class names and the line height, so
    frames of a video get legends of the same size.

    Args:
        classes: class names, index = label.
        palette: ``(N, 3)`` RGB colours.
        height (int): height of the column.
        present: labels drawn in the panel.
        max_line (int): largest line height.
    """
    n = len(classes)
    if n == 0:
        return None
    palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    if len(palette) < n:
        raise ValueError(f'palette has {len(palette)} colours for {n} '
                         'classes')
    line = min(max_line, (height - 4) // n)
    if line < LEGEND_MIN_LINE:
        return None
    scale = _text_scale('Ag', line)
    text_w = max(cv2.getTextSize(str(c), _FONT, scale, 1)[0][0]
                 for c in classes)
    sw = line - 2
    width = 2 + sw + 4 + text_w + 3
    out = np.zeros((height, width, 3), np.uint8)
    present = set(range(n)) if present is None else {int(p) for p in present}
    for k, name in enumerate(classes):
        y = 2 + k * line
        out[y + 1:y + 1 + sw, 2:2 + sw] = palette[k][::-1]
        row = out[y:y + line]
        _put(row, str(name), 2 + sw + 4, line,
             color=_WHITE if k in present else _GREY)
    return out
