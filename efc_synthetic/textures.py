"""Procedural textures and label maps for the synthetic street world.

Every function here draws one *layer*: an RGB float32 texture (values in
[0, 255]) and a uint8 label map of the same size holding Cityscapes train ids,
:data:`TRANSPARENT` where the layer does not exist (its alpha is 0). Textures
live in the layer's own metric coordinates (``res`` metres per texel), so the
renderer can place them with a homography. All randomness comes from the
``numpy.random.Generator`` passed in, so a texture is a pure function of the
generator state (deterministic per seed).

Textures are deliberately busy (multi-scale noise, stripes, windows, tiles,
speckles, per-object random colours): optical flow must not be guessable from
flat colour patches.
"""
import cv2
import numpy as np

from .classes import (BICYCLE, BUILDING, CAR, PERSON, RIDER, ROAD, SIDEWALK,
                      SKY, TRANSPARENT, VEGETATION)

__all__ = [
    'fractal_noise', 'make_sky', 'make_ground', 'make_facade', 'make_tree',
    'make_car', 'make_pedestrian', 'make_cyclist'
]


def fractal_noise(rng, h, w, cell, octaves=4, persistence=0.55):
    """Multi-scale value noise of zero mean and unit standard deviation.

    Args:
        rng (np.random.Generator): source of randomness.
        h, w (int): output size in texels.
        cell (float): size in texels of the coarsest octave's cells; each
            further octave halves it (never below 1.5 texels).
        octaves (int): number of octaves summed.
        persistence (float): amplitude ratio between consecutive octaves.

    Returns:
        np.ndarray: ``(h, w)`` float32.
    """
    h, w = int(h), int(w)
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    c = float(cell)
    for _ in range(int(octaves)):
        c = max(c, 1.5)
        gh, gw = int(np.ceil(h / c)) + 2, int(np.ceil(w / c)) + 2
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        up = cv2.resize(grid, (int(np.ceil(gw * c)), int(np.ceil(gh * c))),
                        interpolation=cv2.INTER_CUBIC)
        out += amp * up[:h, :w]
        amp *= persistence
        c /= 2.0
    std = float(out.std())
    return out / std if std > 1e-6 else out


def _jitter(rng, rgb, amount):
    """Return ``rgb`` (3,) with each channel moved by up to ``amount``."""
    return np.clip(np.asarray(rgb, np.float32) +
                   rng.uniform(-amount, amount, 3), 0, 255).astype(np.float32)


def _colour_noise(rng, h, w, cell, amp, octaves=4):
    """Luminance noise plus weaker per-channel noise, ``(h, w, 3)``."""
    lum = fractal_noise(rng, h, w, cell, octaves)[..., None] * amp
    chroma = fractal_noise(rng, h, w, cell * 2, 2)[..., None] * (
        amp * 0.25 * rng.uniform(-1, 1, 3).astype(np.float32))
    return lum + chroma


# --------------------------------------------------------------------- sky
def make_sky(rng, h, w):
    """Sky: vertical gradient (lighter at the horizon) with soft clouds.

    Row 0 is the top of the sky. Every texel is labelled sky.
    """
    top = _jitter(rng, rng.choice([[95, 140, 200], [150, 170, 195],
                                   [120, 155, 205], [175, 180, 190]]), 15)
    bottom = np.clip(top + rng.uniform(40, 70), 0, 250)
    ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    rgb = top * (1 - ramp) + bottom * ramp
    rgb = np.broadcast_to(rgb, (h, w, 3)).copy()
    clouds = fractal_noise(rng, h, w, max(h, w) / 4.0, 7, 0.65)
    cover = rng.uniform(-0.5, 0.6)
    alpha = np.clip((clouds - cover) * 0.8, 0, 1)[..., None]
    cloud_rgb = _jitter(rng, [235, 235, 240], 12)
    shade = fractal_noise(rng, h, w, max(h, w) / 10.0, 4)[..., None] * 18
    rgb = rgb * (1 - alpha) + (cloud_rgb + shade) * alpha
    # faint haze texture everywhere, so even a clear sky is not flat
    rgb += fractal_noise(rng, h, w, 12, 4, 0.7)[..., None] * 6
    return rgb, np.full((h, w), SKY, np.uint8)


# ------------------------------------------------------------------ ground
def make_ground(rng, x0, z0, res, h, w, road_half, lane_width, crosswalks):
    """Ground plane: asphalt road with lane markings, zebra crossings,
    patches and manholes; curbs; tiled sidewalks.

    Texel ``(row i, col j)`` sits at world ``X = x0 + j * res``,
    ``Z = z0 + i * res`` on the plane ``Y = 0``. The road spans
    ``|X| < road_half``; everything else is sidewalk / pavement.

    For speed the texture is built as a per-texel material index and a
    single-channel shade; the colour is ``palette[material] + shade``.

    Args:
        crosswalks (list[float]): world Z where a zebra crossing starts.
    """
    X = (x0 + np.arange(w, dtype=np.float32) * res)[None, :]
    Z = (z0 + np.arange(h, dtype=np.float32) * res)[:, None]
    absx = np.abs(X)
    road_col = absx < road_half  # (1, w)
    labels = np.broadcast_to(np.where(road_col, ROAD, SIDEWALK).astype(
        np.uint8), (h, w)).copy()
    ASPH, SIDE, WHITE, MANHOLE, CURB = range(5)
    grey = rng.uniform(70, 110)
    side_base = _jitter(rng, rng.choice([[150, 150, 150], [170, 160, 140],
                                         [160, 120, 110], [130, 130, 140]]),
                        15)
    palette = np.stack([
        np.array([grey, grey, grey + rng.uniform(-4, 8)], np.float32),
        side_base, np.array([225, 225, 215], np.float32),
        np.array([50, 50, 53], np.float32),
        (side_base * 0.5 + 100).astype(np.float32)
    ])
    mat = np.where(labels == ROAD, ASPH, SIDE).astype(np.uint8)

    coarse = fractal_noise(rng, h, w, 2.0 / res, 3)
    fine = fractal_noise(rng, h, w, 0.3 / res, 2)
    speck = rng.random((h, w), np.float32)
    # sidewalk tiles: per-tile brightness and grout lines
    tile = rng.uniform(0.3, 0.8)
    nx, nz = int(w * res / tile) + 3, int(h * res / tile) + 3
    tile_rand = rng.uniform(-15, 15, (nz, nx)).astype(np.float32)
    ti = ((Z - z0) / tile).astype(np.intp)
    tj = ((X - x0) / tile).astype(np.intp)
    gw = max(0.04, 1.01 * res)  # at least one texel wide: no aliasing
    grout = ((X % tile) < gw) | ((Z % tile) < gw)
    side_shade = tile_rand[ti, tj] + coarse * 6 + fine * 8 - grout * 45.0
    road_shade = coarse * 14 + fine * 9 + np.where(
        speck < 0.03, (speck - 0.015) * 2300, 0)
    shade = np.where(road_col, road_shade, side_shade)
    # darker repair patches
    for _ in range(int(rng.integers(2, 7))):
        pz = rng.uniform(z0, z0 + h * res)
        px = rng.uniform(-road_half, road_half)
        hz, hx = rng.uniform(0.5, 3), rng.uniform(0.5, 2.5)
        r0, r1 = np.clip(((pz - hz - z0) / res, (pz + hz - z0) / res), 0,
                         h).astype(int)
        m = np.abs(X - px) < hx
        shade[r0:r1] -= m * rng.uniform(8, 22)
    curb = (absx >= road_half) & (absx < road_half + 0.25)
    mat[np.broadcast_to(curb, (h, w))] = CURB
    # lane markings: dashed between lanes, solid near the edges
    period, dash = rng.uniform(7, 12), rng.uniform(2.5, 4)
    n_lanes = int(round(road_half / lane_width))
    rows_dash = (Z % period) < dash
    for k in range(-n_lanes + 1, n_lanes):
        xb = k * lane_width
        if k == 0 and n_lanes > 1:  # double centre line
            m = np.abs(np.abs(X) - 0.12) < max(0.06, res * 0.8)
            mat[:, m[0]] = WHITE
        else:
            m = (np.abs(X - xb) < max(0.07, res)) & rows_dash
            mat[m] = WHITE
    edge = np.abs(absx - (road_half - 0.35)) < max(0.06, res)
    mat[:, edge[0]] = WHITE
    for zc in crosswalks:
        r0, r1 = np.clip(((zc - z0) / res, (zc + 4.0 - z0) / res), 0,
                         h).astype(int)
        cols = (((X % 1.0) < 0.5) & (absx < road_half - 0.5))[0]
        mat[r0:r1, cols] = WHITE
    # manholes
    for _ in range(int(rng.integers(1, 5))):
        cz = rng.uniform(z0, z0 + h * res)
        cxm = rng.uniform(-road_half + 0.6, road_half - 0.6)
        r0, r1 = np.clip(((cz - 0.7 - z0) / res, (cz + 0.7 - z0) / res), 0,
                         h).astype(int)
        r2 = (X - cxm)**2 + (Z[r0:r1] - cz)**2
        disk = r2 < 0.36
        mat[r0:r1][disk] = MANHOLE
        shade[r0:r1][disk & ((X * 8).astype(np.int32) % 2 == 0)] += 18
    rgb = palette[mat]
    rgb += shade[..., None]
    return rgb, labels


# ----------------------------------------------------------------- facades
_WALL_COLOURS = [[200, 190, 170], [170, 160, 150], [150, 90, 70],
                 [225, 220, 210], [120, 125, 135], [190, 150, 110],
                 [140, 150, 160], [210, 200, 160]]


def make_facade(rng, length_m, height_m, res, veg_prob=0.35, gap_prob=0.12):
    """A row of buildings seen front-on (used for the street's side walls
    and for the far end of the street).

    Column ``j`` is ``j * res`` metres along the row, row ``i`` is
    ``height_m - i * res`` metres above the ground (row 0 is the top).
    Above each building's roof line (and in gaps between buildings) the
    texture is :data:`TRANSPARENT`. Buildings carry windows with frames,
    floor bands, a cornice and a shop floor; hedges at the base are
    vegetation.
    """
    w = int(np.ceil(length_m / res)) + 1
    h = int(np.ceil(height_m / res)) + 1
    rgb = np.zeros((h, w, 3), np.float32)
    labels = np.full((h, w), TRANSPARENT, np.uint8)
    up = (height_m - np.arange(h, dtype=np.float32) * res)[:, None]
    along = (np.arange(w, dtype=np.float32) * res)[None, :]
    pos = 0.0
    while pos < length_m:
        if rng.random() < gap_prob:
            pos += rng.uniform(2, 6)
            continue
        bw = rng.uniform(8, 25)
        bh = rng.uniform(8, max(9.0, height_m - 1))
        c0, c1 = int(pos / res), min(w, int(np.ceil((pos + bw) / res)))
        pos += bw
        if c1 <= c0:
            continue
        r0 = max(0, int((height_m - bh) / res))
        a = along[:, c0:c1] - (c0 * res)
        z = up[r0:]
        bh_, bw_ = h - r0, c1 - c0
        wall = _jitter(rng, _WALL_COLOURS[rng.integers(len(_WALL_COLOURS))],
                       25)
        blk = wall + _colour_noise(rng, bh_, bw_, 3.0 / res, 16, 4)
        blk += fractal_noise(rng, bh_, bw_, 0.25 / res, 2)[..., None] * 7
        fh = rng.uniform(2.9, 3.8)
        ground_floor = rng.uniform(3.5, 4.5)
        # floor bands
        band = ((z % fh) < 0.25) & (z > ground_floor)
        blk = np.where(band[..., None], blk * 0.8, blk)
        # windows with frames
        ws = rng.uniform(2.2, 4.0)
        ww = rng.uniform(0.9, min(1.8, ws - 0.6))
        wh = rng.uniform(1.1, min(2.0, fh - 0.7))
        sill = rng.uniform(0.5, fh - wh - 0.15)
        off = rng.uniform(0, ws)
        ax = (a + off) % ws
        zy = z % fh
        upper = (z > ground_floor) & (z < bh - 0.9)
        frame_m = (((ax > 0.3 - 0.1) & (ax < 0.3 + ww + 0.1)) &
                   ((zy > sill - 0.1) & (zy < sill + wh + 0.1)) & upper)
        win_m = (((ax > 0.3) & (ax < 0.3 + ww)) &
                 ((zy > sill) & (zy < sill + wh)) & upper)
        frame_rgb = _jitter(rng, [230, 230, 225], 25)
        blk = np.where(frame_m[..., None], frame_rgb, blk)
        glass = _jitter(rng, [55, 70, 90], 20)
        refl = ((zy - sill) / wh * 50 - 25)[..., None] + fractal_noise(
            rng, bh_, bw_, 1.0 / res, 3)[..., None] * 18
        lit = (np.floor((a + off) / ws) * 31 + np.floor(z / fh) * 17 +
               rng.integers(100)) % 9 == 0
        glass_rgb = glass + refl + np.where(lit[..., None],
                                            np.float32([120, 90, 30]), 0)
        mull = win_m & (np.abs(ax - 0.3 - ww / 2) < 0.04)
        blk = np.where(win_m[..., None], glass_rgb, blk)
        blk = np.where(mull[..., None], frame_rgb, blk)
        # shop floor: big dark windows and a door
        shop = (z > 0.4) & (z < ground_floor - 0.6) & (
            (a % rng.uniform(3, 6)) > 0.5)
        blk = np.where(shop[..., None],
                       _jitter(rng, [40, 45, 55], 15) + refl * 0.6, blk)
        cornice = (z > bh - 0.5) & (z < bh)
        blk = np.where(cornice[..., None], blk * 0.65 + 20, blk)
        lab = np.where(np.broadcast_to(z <= bh, (bh_, bw_)), BUILDING,
                       TRANSPARENT).astype(np.uint8)
        if rng.random() < veg_prob:  # hedge / bushes along the base
            top = rng.uniform(0.8, 2.2) + 0.35 * fractal_noise(
                rng, 1, bw_, 0.8 / res, 3)
            s0 = rng.uniform(0, 0.5) * bw
            hedge = (z < top) & (a > s0) & (a < s0 + rng.uniform(3, bw))
            green = _jitter(rng, [60, 110, 45], 20)
            leaf = _colour_noise(rng, bh_, bw_, 0.5 / res, 30, 4)
            blk = np.where(hedge[..., None], green + leaf, blk)
            lab[hedge] = VEGETATION
        rgb[r0:, c0:c1] = blk
        labels[r0:, c0:c1] = lab
    return rgb, labels


# ---------------------------------------------------------------- billboards
def _canvas(w_m, h_m, res):
    """Empty billboard canvas ``(rgb, labels, to_px)`` of ``w_m x h_m``
    metres; ``to_px(x, y_up)`` converts metres (x from the left, y up from
    the ground) to integer texel coordinates ``(col, row)``."""
    w = int(np.ceil(w_m / res)) + 1
    h = int(np.ceil(h_m / res)) + 1
    rgb = np.zeros((h, w, 3), np.uint8)
    labels = np.full((h, w), TRANSPARENT, np.uint8)

    def to_px(x, y_up):
        return int(round(x / res)), int(round((h_m - y_up) / res))

    return rgb, labels, to_px


def _finish_billboard(rng, rgb, labels, res, noise_amp=12.0):
    """Add texture noise inside the object and give transparent texels the
    object's mean colour (so bilinear sampling at the silhouette does not
    darken the edge). Returns float32 RGB."""
    h, w = labels.shape
    out = rgb.astype(np.float32)
    out += _colour_noise(rng, h, w, 0.3 / res, noise_amp, 3)
    out += fractal_noise(rng, h, w, 0.05 / res, 2)[..., None] * (
        noise_amp * 0.5)
    inside = labels != TRANSPARENT
    if inside.any():
        out[~inside] = out[inside].mean(0)
    return out


def _col(rng, rgb, amount=20):
    c = _jitter(rng, rgb, amount)
    return tuple(int(v) for v in c)


def make_tree(rng, res=0.04):
    """Street tree: trunk and a ragged crown of leaves. All vegetation.

    Returns ``(rgb, labels, width_m, height_m)``; the trunk's foot is at the
    bottom centre of the canvas.
    """
    crown_r = rng.uniform(1.4, 2.8)
    height = rng.uniform(4.5, 8.5)
    width = 2 * crown_r + 0.6
    rgb, labels, to_px = _canvas(width, height, res)
    h, w = labels.shape
    cx = width / 2
    trunk_w = rng.uniform(0.2, 0.4)
    p0, p1 = to_px(cx - trunk_w / 2, height - crown_r), to_px(
        cx + trunk_w / 2, 0)
    cv2.rectangle(labels, p0, p1, int(VEGETATION), -1)
    cv2.rectangle(rgb, p0, p1, _col(rng, [90, 70, 50]), -1)
    # crown: union of blobs, ragged edge from noise
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ccx, ccy = to_px(cx, height - crown_r)
    rpx = crown_r / res
    d = np.sqrt((xx - ccx)**2 + ((yy - ccy) * 1.1)**2) / rpx
    rag = fractal_noise(rng, h, w, rpx / 2, 3) * 0.12
    crown = d + rag < 0.92
    green = _jitter(rng, [70, 115, 50], 25)
    leaf = _colour_noise(rng, h, w, 0.4 / res, 40, 4)
    dark = (fractal_noise(rng, h, w, 0.15 / res, 2) > 0.8)[..., None]
    crown_rgb = np.clip(green + leaf - dark * 40 - (d[..., None] * 25), 0,
                        255)
    rgb = np.where(crown[..., None], crown_rgb, rgb).astype(np.uint8)
    labels[crown] = VEGETATION
    return _finish_billboard(rng, rgb, labels, res, 6), labels, width, height


_CAR_COLOURS = [[230, 230, 230], [30, 30, 35], [150, 155, 160],
                [170, 30, 30], [30, 60, 140], [90, 95, 100], [200, 180, 40],
                [40, 100, 60], [120, 20, 30]]


def make_car(rng, view, res=0.03):
    """A car seen from behind (``'rear'``), the front (``'front'``) or the
    side (``'side'``). Returns ``(rgb, labels, width_m, height_m)``."""
    paint = _col(rng, _CAR_COLOURS[rng.integers(len(_CAR_COLOURS))], 15)
    glass = _col(rng, [40, 50, 60], 12)
    tyre = (25, 25, 25)
    height = rng.uniform(1.4, 1.75)
    if view == 'side':
        width = rng.uniform(3.8, 4.8)
        rgb, labels, to_px = _canvas(width, height, res)
        body_top = rng.uniform(0.85, 1.0)
        pts = np.array([to_px(0.05, 0.3), to_px(0.0, body_top - 0.15),
                        to_px(0.3, body_top), to_px(width - 0.2, body_top),
                        to_px(width, body_top - 0.2),
                        to_px(width - 0.05, 0.3)], np.int32)
        cabin = np.array([to_px(width * 0.22, body_top),
                          to_px(width * 0.35, height - 0.02),
                          to_px(width * 0.75, height - 0.02),
                          to_px(width * 0.88, body_top)], np.int32)
        for poly in (pts, cabin):
            cv2.fillPoly(labels, [poly], int(CAR))
            cv2.fillPoly(rgb, [poly], paint)
        win = np.array([to_px(width * 0.27, body_top + 0.05),
                        to_px(width * 0.37, height - 0.1),
                        to_px(width * 0.73, height - 0.1),
                        to_px(width * 0.83, body_top + 0.05)], np.int32)
        cv2.fillPoly(rgb, [win], glass)
        pil = to_px(width * 0.55, 0)[0]
        cv2.line(rgb, (pil, to_px(0, height)[1]), (pil, to_px(0, 0.3)[1]),
                 tuple(int(c * 0.6) for c in paint), max(1, int(0.05 / res)))
        for wx in (0.8, width - 0.8):
            c = to_px(wx, 0.33)
            r = int(0.33 / res)
            cv2.circle(labels, c, r, int(CAR), -1)
            cv2.circle(rgb, c, r, tyre, -1)
            cv2.circle(rgb, c, int(r * 0.6), _col(rng, [170, 170, 175]), -1)
            cv2.circle(rgb, c, int(r * 0.2), (60, 60, 60), -1)
        cv2.line(rgb, to_px(0.1, 0.55), to_px(width - 0.1, 0.55),
                 tuple(int(c * 0.7) for c in paint), max(1, int(0.03 / res)))
    else:
        width = rng.uniform(1.65, 1.95)
        rgb, labels, to_px = _canvas(width, height, res)
        body_top = rng.uniform(0.85, 1.0)
        cv2.rectangle(labels, to_px(0, body_top), to_px(width, 0.15),
                      int(CAR), -1)
        cv2.rectangle(rgb, to_px(0, body_top), to_px(width, 0.15), paint, -1)
        cabin = np.array([to_px(0.12, body_top),
                          to_px(0.3, height - 0.02),
                          to_px(width - 0.3, height - 0.02),
                          to_px(width - 0.12, body_top)], np.int32)
        cv2.fillPoly(labels, [cabin], int(CAR))
        cv2.fillPoly(rgb, [cabin], paint)
        win = np.array([to_px(0.22, body_top + 0.05),
                        to_px(0.36, height - 0.1),
                        to_px(width - 0.36, height - 0.1),
                        to_px(width - 0.22, body_top + 0.05)], np.int32)
        cv2.fillPoly(rgb, [win], glass)
        for wx in (0.05, width - 0.3):  # tyres under the body
            cv2.rectangle(labels, to_px(wx, 0.35), to_px(wx + 0.25, 0),
                          int(CAR), -1)
            cv2.rectangle(rgb, to_px(wx, 0.35), to_px(wx + 0.25, 0), tyre,
                          -1)
        lamp = (200, 30, 30) if view == 'rear' else (240, 240, 200)
        for lx in (0.08, width - 0.38):
            cv2.rectangle(rgb, to_px(lx, body_top - 0.1),
                          to_px(lx + 0.3, body_top - 0.28), lamp, -1)
        if view == 'rear':
            cv2.rectangle(rgb, to_px(width / 2 - 0.26, 0.55),
                          to_px(width / 2 + 0.26, 0.42), (235, 235, 235), -1)
            for k in range(6):
                x = width / 2 - 0.22 + k * 0.08
                cv2.rectangle(rgb, to_px(x, 0.52), to_px(x + 0.04, 0.45),
                              (20, 20, 20), -1)
        else:
            for k in range(5):
                y = 0.45 + k * 0.06
                cv2.line(rgb, to_px(width * 0.3, y), to_px(width * 0.7, y),
                         (30, 30, 30), max(1, int(0.02 / res)))
        cv2.rectangle(rgb, to_px(0, 0.35), to_px(width, 0.2),
                      tuple(int(c * 0.5) for c in paint), -1)
    return _finish_billboard(rng, rgb, labels, res), labels, width, height


def _draw_person(rng, rgb, labels, to_px, x0, height, label, seated=False,
                 res=0.02):
    """Draw a standing (or, for riders, seated) person whose body centre is
    at ``x0`` metres; ``height`` is the top of the head above the ground."""
    skin = _col(rng, rng.choice([[230, 190, 160], [190, 140, 100],
                                 [120, 80, 50]]), 15)
    shirt = _col(rng, rng.uniform(20, 235, 3), 10)
    pants = _col(rng, rng.choice([[40, 50, 90], [30, 30, 30],
                                  [120, 110, 90], [80, 80, 85]]), 20)
    lab = int(label)
    head_r = 0.11
    neck = height - 2 * head_r
    hip = height * (0.62 if seated else 0.53)
    shoulder = neck - 0.02
    tw = rng.uniform(0.36, 0.46)
    if not seated:
        stride = rng.uniform(0.0, 0.25)
        legs = [(x0 - 0.07, x0 - 0.07 - stride), (x0 + 0.07, x0 + 0.07 +
                                                   stride * 0.5)]
        for xh, xf in legs:
            for img, val in ((labels, lab), (rgb, pants)):
                cv2.line(img, to_px(xh, hip), to_px(xf, 0.06), val,
                         max(1, int(0.13 / res)))
            cv2.line(rgb, to_px(xf, 0.06), to_px(xf + 0.1, 0.03), (25, 25, 25),
                     max(1, int(0.08 / res)))
            cv2.line(labels, to_px(xf, 0.06), to_px(xf + 0.1, 0.03), lab,
                     max(1, int(0.08 / res)))
    torso = np.array([to_px(x0 - tw / 2, shoulder),
                      to_px(x0 + tw / 2, shoulder),
                      to_px(x0 + tw / 2 - 0.05, hip),
                      to_px(x0 - tw / 2 + 0.05, hip)], np.int32)
    cv2.fillPoly(labels, [torso], lab)
    cv2.fillPoly(rgb, [torso], shirt)
    if rng.random() < 0.5:  # striped shirt
        stripe = _col(rng, rng.uniform(20, 235, 3), 10)
        y = hip
        while y < shoulder:
            cv2.line(rgb, to_px(x0 - tw / 2, y), to_px(x0 + tw / 2, y),
                     stripe, max(1, int(0.03 / res)))
            y += 0.08
    for side in (-1, 1):  # arms
        for img, val in ((labels, lab), (rgb, shirt)):
            cv2.line(img, to_px(x0 + side * tw / 2, shoulder - 0.03),
                     to_px(x0 + side * (tw / 2 + 0.05), hip - 0.02), val,
                     max(1, int(0.09 / res)))
        cv2.circle(rgb, to_px(x0 + side * (tw / 2 + 0.05), hip - 0.03),
                   max(1, int(0.045 / res)), skin, -1)
    hc = to_px(x0, height - head_r)
    cv2.circle(labels, hc, int(head_r / res), lab, -1)
    cv2.circle(rgb, hc, int(head_r / res), skin, -1)
    hair = _col(rng, rng.choice([[30, 20, 10], [90, 60, 30], [200, 170, 90],
                                 [60, 60, 60]]), 10)
    cv2.ellipse(rgb, hc, (int(head_r / res), int(head_r / res)), 0, 180, 360,
                hair, -1)
    if label == RIDER:  # helmet
        cv2.ellipse(labels, hc, (int(head_r * 1.2 / res),
                                 int(head_r * 1.2 / res)), 0, 180, 360, lab,
                    -1)
        cv2.ellipse(rgb, hc, (int(head_r * 1.2 / res),
                              int(head_r * 1.2 / res)), 0, 180, 360,
                    _col(rng, rng.uniform(30, 230, 3)), -1)
    return hip


def make_pedestrian(rng, res=0.02):
    """A pedestrian (person, id 11). Returns ``(rgb, labels, w_m, h_m)``."""
    height = rng.uniform(1.55, 1.95)
    width = 0.8
    rgb, labels, to_px = _canvas(width, height, res)
    _draw_person(rng, rgb, labels, to_px, width / 2, height, PERSON,
                 res=res)
    if rng.random() < 0.3:  # bag
        p0, p1 = to_px(0.55, 1.0), to_px(0.75, 0.7)
        cv2.rectangle(labels, p0, p1, int(PERSON), -1)
        cv2.rectangle(rgb, p0, p1, _col(rng, [90, 60, 40], 30), -1)
    return _finish_billboard(rng, rgb, labels, res, 10), labels, width, height


def make_cyclist(rng, view, res=0.02):
    """A rider (id 12) on a bicycle (id 18), seen from the side or from
    behind. Wheel interiors are transparent. Returns
    ``(rgb, labels, w_m, h_m)``."""
    height = rng.uniform(1.65, 1.95)
    frame_col = _col(rng, rng.uniform(20, 235, 3), 10)
    bike = int(BICYCLE)
    if view == 'side':
        width = 1.85
        rgb, labels, to_px = _canvas(width, height, res)
        r = 0.34
        wa, wb = to_px(0.4, r + 0.01), to_px(1.45, r + 0.01)
        th = max(1, int(0.045 / res))
        for c in (wa, wb):
            cv2.circle(labels, c, int(r / res), bike, th)
            cv2.circle(rgb, c, int(r / res), (25, 25, 25), th)
            cv2.circle(labels, c, max(1, int(0.04 / res)), bike, -1)
        crank = to_px(0.9, r + 0.02)
        seat = to_px(0.8, 0.95)
        bar = to_px(1.35, 1.02)
        for p, q in ((wa, crank), (crank, seat), (seat, wa), (seat, bar),
                     (bar, crank), (bar, wb)):
            cv2.line(labels, p, q, bike, th)
            cv2.line(rgb, p, q, frame_col, th)
        hip = _draw_person(rng, rgb, labels, to_px, 0.95, height, RIDER,
                           seated=True, res=res)
        pants = _col(rng, [40, 45, 60], 20)
        for foot in ((0.8, 0.3), (1.05, 0.45)):
            for img, val in ((labels, int(RIDER)), (rgb, pants)):
                cv2.line(img, to_px(0.9, hip), to_px(*foot), val,
                         max(1, int(0.12 / res)))
    else:
        width = 0.7
        rgb, labels, to_px = _canvas(width, height, res)
        p0, p1 = to_px(width / 2 - 0.03, 0.7), to_px(width / 2 + 0.03, 0.0)
        cv2.rectangle(labels, p0, p1, bike, -1)
        cv2.rectangle(rgb, p0, p1, (25, 25, 25), -1)
        cv2.line(labels, to_px(0.08, 1.0), to_px(width - 0.08, 1.0), bike,
                 max(1, int(0.03 / res)))
        cv2.line(rgb, to_px(0.08, 1.0), to_px(width - 0.08, 1.0), frame_col,
                 max(1, int(0.03 / res)))
        hip = _draw_person(rng, rgb, labels, to_px, width / 2, height, RIDER,
                           seated=True, res=res)
        pants = _col(rng, [40, 45, 60], 20)
        for side in (-1, 1):
            for img, val in ((labels, int(RIDER)), (rgb, pants)):
                cv2.line(img, to_px(width / 2 + side * 0.1, hip),
                         to_px(width / 2 + side * 0.13, 0.35), val,
                         max(1, int(0.11 / res)))
    return _finish_billboard(rng, rgb, labels, res, 10), labels, width, height
