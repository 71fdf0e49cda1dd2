"""Rendering of the synthetic world with exact flow and occlusion.

Each frame is rendered by *backward mapping*: for every layer, every pixel
is mapped through the inverse of the layer's homography into the layer's
texture; a z-buffer keeps the front-most covering layer, which defines the
pixel's colour (bilinear texture sample), label (nearest), depth and layer
id.

Flow is analytic. A pixel ``p`` of frame ``a`` showing layer ``i`` shows the
texel ``H_i(a)^-1 p``; the same texel is at ``H_i(b) H_i(a)^-1 p`` in frame
``b``, so ``flow_{a->b}(p)`` is that position minus ``p`` (exact for the
piecewise-planar scene, no sampling). The pixel is *occluded* in ``b`` when
the target position is outside the image (``0 <= x <= W - 1``,
``0 <= y <= H - 1`` is "inside", so bilinear sampling there is defined), when
the point is nearer than the near plane there, or when the layer visible at
the nearest pixel of frame ``b`` is another one whose plane, evaluated at
the exact target position, is nearer than the point (relative tolerance
1e-3; exact for piecewise-rigid planes up to the nearest-pixel lookup).

Brightness: frame ``t`` is the rendered colour times a global gain
``brightness[t]`` (a small random walk, about 1 % per frame), rounded.
"""
import cv2
import numpy as np

from .classes import IGNORE_INDEX, TRANSPARENT
from .scene import NEAR, sample_scene

__all__ = ['render_snippet', 'render_frame', 'flow_between']

_OCC_TOL = 1e-3
#: extra blur (in pyramid levels) against aliasing of the rendered image
LOD_BIAS = 0.5


class FrameBuffers:
    """What rendering one frame produces: ``colour`` (H, W, 3) uint8 BGR
    (before the brightness gain), ``labels`` (H, W) uint8, ``depth``
    (H, W) float32 metres, ``ids`` (H, W) int16 layer index, ``H`` / ``Hinv``
    (L, 3, 3) float64 per-layer homographies, ``active`` (L,) bool."""

    __slots__ = ('colour', 'labels', 'depth', 'ids', 'H', 'Hinv', 'active')


def _clip_near(P):
    """Clip a convex polygon, given by the homogeneous images ``P`` (3, n)
    of its vertices (third row = depth), to ``depth >= NEAR``. Points of a
    plane map linearly to ``P``, so clipping is linear interpolation."""
    out = []
    n = P.shape[1]
    for k in range(n):
        p, q = P[:, k], P[:, (k + 1) % n]
        pin, qin = p[2] >= NEAR, q[2] >= NEAR
        if pin:
            out.append(p)
        if pin != qin:
            s = (NEAR - p[2]) / (q[2] - p[2])
            out.append(p + s * (q - p))
    return np.stack(out, axis=1) if out else None


def _region(layer, Hm, cam):
    """Pixel box ``(y0, y1, x0, x1)`` to rasterise ``layer`` in (possibly
    empty), or None when the layer is inactive. Billboards are active only
    while all four corners are in front of the near plane; large planes are
    clipped to the near plane."""
    W, Hh = cam.width, cam.height
    P = Hm @ layer.corners().T
    if layer.billboard and P[2].min() < NEAR:
        return None
    P = _clip_near(P)
    if P is None:
        return (0, 0, 0, 0)
    x, y = P[0] / P[2], P[1] / P[2]
    x0 = max(0, int(np.floor(x.min())))
    x1 = min(W, int(np.ceil(x.max())) + 1)
    y0 = max(0, int(np.floor(y.min())))
    y1 = min(Hh, int(np.ceil(y.max())) + 1)
    if x0 >= x1 or y0 >= y1:
        return (0, 0, 0, 0)
    return y0, y1, x0, x1


def _lod(h, x, y):
    """Level of detail at pixels ``(x, y)`` for the pixel->texel homography
    ``h``: log2 of the texels per pixel along the longer axis of the pixel's
    footprint (from d(u,v)/dx and d(u,v)/dy), plus :data:`LOD_BIAS`,
    clamped at 0."""
    with np.errstate(invalid='ignore', over='ignore', divide='ignore'):
        depth = 1.0 / (h[2, 0] * x + h[2, 1] * y + h[2, 2])
        u = (h[0, 0] * x + h[0, 1] * y + h[0, 2]) * depth
        v = (h[1, 0] * x + h[1, 1] * y + h[1, 2]) * depth
        du_dx = (h[0, 0] - u * h[2, 0]) * depth
        du_dy = (h[0, 1] - u * h[2, 1]) * depth
        dv_dx = (h[1, 0] - v * h[2, 0]) * depth
        dv_dy = (h[1, 1] - v * h[2, 1]) * depth
        foot2 = np.maximum(du_dx * du_dx + dv_dx * dv_dx,
                           du_dy * du_dy + dv_dy * dv_dy)
        lod = 0.5 * np.log2(np.maximum(foot2, 1e-12)) + LOD_BIAS
    lod = np.nan_to_num(np.asarray(lod, np.float32), nan=0.0, posinf=0.0,
                        neginf=0.0)
    return np.maximum(lod, 0)


def _remap_level(mips, k, u, v):
    sk = np.float32(1.0 / (1 << k))
    return cv2.remap(mips[k], u * sk if k else u, v * sk if k else v,
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _sample_colour(layer, h, u, v, xs, ys, ok):
    """Trilinear (mip-mapped) colour sample of ``layer`` at texel coords
    ``(u, v)``, so minified textures do not alias. Layers with a uniform
    footprint (billboards, far facade, sky) use one LOD per frame; the
    ground and side facades a per-pixel LOD computed on a 4x coarser grid
    (it is smooth), each pyramid level sampled only where it is used."""
    mips = layer.mip_levels()
    top = len(mips) - 1
    rh, rw = u.shape
    if layer.uniform_lod:
        inside = np.argwhere(ok)
        cy_, cx_ = inside[len(inside) // 2]
        lod = min(float(_lod(h, xs[0, cx_], ys[cy_, 0])), top)
        k0 = int(np.floor(lod))
        frac = lod - k0
        if frac < 0.02 or k0 >= top:
            return _remap_level(mips, k0, u, v)
        return cv2.addWeighted(_remap_level(mips, k0, u, v), 1 - frac,
                               _remap_level(mips, k0 + 1, u, v), frac, 0)
    step = 4
    lod = _lod(h, xs[:, ::step], ys[::step])
    if lod.max() == 0:
        return _remap_level(mips, 0, u, v)
    lod = cv2.resize(lod, (lod.shape[1] * step, lod.shape[0] * step),
                     interpolation=cv2.INTER_LINEAR)[:rh, :rw]
    np.copyto(lod, 0, where=~ok)
    np.minimum(lod, top, out=lod)
    acc = np.zeros((rh, rw, 3), np.float32)
    for k in range(int(np.floor(lod.min())), int(np.ceil(lod.max())) + 1):
        wk = 1.0 - np.abs(lod - k)
        used = wk > 0
        rows = np.flatnonzero(used.any(1))
        if rows.size == 0:
            continue
        cols = np.flatnonzero(used[rows[0]:rows[-1] + 1].any(0))
        sl = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        w_sub = np.maximum(wk[sl], 0)
        acc[sl] += w_sub[..., None] * _remap_level(mips, k, u[sl], v[sl])
    return cv2.convertScaleAbs(acc)


def _rasterise(buf, i, layer, Hi, reg, xs_all, ys_all):
    """Draw one layer into ``buf`` inside box ``reg`` with a depth test."""
    y0, y1, x0, x1 = reg
    xs = xs_all[None, x0:x1]
    ys = ys_all[y0:y1, None]
    h = Hi.astype(np.float32)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        depth = 1.0 / (h[2, 0] * xs + h[2, 1] * ys + h[2, 2])
        zsub = buf.depth[y0:y1, x0:x1]
        ok = (depth >= NEAR) & (depth < zsub)
        if not ok.any():
            return
        u = (h[0, 0] * xs + h[0, 1] * ys + h[0, 2]) * depth
        v = (h[1, 0] * xs + h[1, 1] * ys + h[1, 2]) * depth
    bad = ~ok
    np.copyto(u, -10, where=bad)
    np.copyto(v, -10, where=bad)
    lab = cv2.remap(layer.labels, u, v, cv2.INTER_NEAREST,
                    borderMode=cv2.BORDER_CONSTANT,
                    borderValue=int(TRANSPARENT))
    ok &= lab != TRANSPARENT
    if not ok.any():
        return
    col = _sample_colour(layer, h, u, v, xs, ys, ok)
    np.copyto(zsub, depth, where=ok)
    np.copyto(buf.ids[y0:y1, x0:x1], np.int16(i), where=ok)
    np.copyto(buf.labels[y0:y1, x0:x1], lab, where=ok)
    np.copyto(buf.colour[y0:y1, x0:x1], col, where=ok[..., None])


def render_frame(layers, cam, t):
    """Rasterise all layers at frame ``t`` (may be fractional or outside
    ``0..N-1``). Returns :class:`FrameBuffers`.

    Layers flagged ``background`` (the sky, farther than everything else)
    are drawn last and only inside the box of still-uncovered pixels.
    """
    W, Hh = cam.width, cam.height
    L = len(layers)
    buf = FrameBuffers()
    buf.depth = np.full((Hh, W), np.inf, np.float32)
    buf.ids = np.full((Hh, W), -1, np.int16)
    buf.colour = np.zeros((Hh, W, 3), np.uint8)
    buf.labels = np.full((Hh, W), IGNORE_INDEX, np.uint8)
    buf.H = np.zeros((L, 3, 3))
    buf.Hinv = np.zeros((L, 3, 3))
    buf.active = np.zeros(L, bool)
    xs_all = np.arange(W, dtype=np.float32)
    ys_all = np.arange(Hh, dtype=np.float32)
    order = ([i for i, ly in enumerate(layers) if not ly.background] +
             [i for i, ly in enumerate(layers) if ly.background])
    for i in order:
        layer = layers[i]
        Hm = layer.homography(t, cam)
        Hi = np.linalg.inv(Hm)
        buf.H[i], buf.Hinv[i] = Hm, Hi
        reg = _region(layer, Hm, cam)
        if reg is None:
            continue
        buf.active[i] = True
        if layer.background:
            holes = np.isinf(buf.depth)
            rows, cols = np.flatnonzero(holes.any(1)), np.flatnonzero(
                holes.any(0))
            if rows.size == 0:
                continue
            reg = (max(reg[0], rows[0]), min(reg[1], rows[-1] + 1),
                   max(reg[2], cols[0]), min(reg[3], cols[-1] + 1))
        if reg[0] < reg[1] and reg[2] < reg[3]:
            _rasterise(buf, i, layer, Hi, reg, xs_all, ys_all)
    return buf


def flow_between(a, b, width, height):
    """Exact flow from frame buffers ``a`` to ``b`` and the occlusion mask.

    Returns:
        tuple: ``flow`` (H, W, 2) float32 (u, v) pixels, ``occ`` (H, W)
        bool (True = the surface seen at p in ``a`` is not visible in ``b``),
        ``defined`` (H, W) bool (False only where the point went behind the
        camera, where flow is set to 0; never happens for sampled scenes).
    """
    ids = a.ids.astype(np.intp)
    if (ids < 0).any():
        raise RuntimeError('uncovered pixel: the sky layer must cover all')
    # pixel(a) -> pixel(b) homography per layer; its third output is
    # depth_b / depth_a, so entries are O(1)..O(W): float32 is precise enough
    rel = np.einsum('lij,ljk->lik', b.H, a.Hinv).reshape(-1, 9)
    m = [np.take(rel[:, k].astype(np.float32), ids) for k in range(9)]
    x = np.arange(width, dtype=np.float32)[None, :]
    y = np.arange(height, dtype=np.float32)[:, None]
    qx_h = m[0] * x + m[1] * y + m[2]
    qy_h = m[3] * x + m[4] * y + m[5]
    qw = m[6] * x + m[7] * y + m[8]
    z_b = qw * a.depth  # depth of the point in frame b
    defined = z_b > 1e-6
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        qx = np.where(defined, qx_h / qw, x)
        qy = np.where(defined, qy_h / qw, y)
    inside = (qx >= 0) & (qx <= width - 1) & (qy >= 0) & (qy <= height - 1)
    occ = ~inside | ~defined | (z_b < NEAR) | ~b.active[ids]
    ri = np.clip(np.rint(qy), 0, height - 1).astype(np.intp)
    rj = np.clip(np.rint(qx), 0, width - 1).astype(np.intp)
    j = b.ids[ri, rj].astype(np.intp)
    hr = b.Hinv[:, 2, :].astype(np.float32)
    w3j = (np.take(hr[:, 0], j) * qx + np.take(hr[:, 1], j) * qy +
           np.take(hr[:, 2], j))
    occ |= (j != ids) & (w3j * z_b > 1.0 + _OCC_TOL)
    flow = np.stack([qx - x, qy - y], axis=-1)
    flow[~defined] = 0
    return flow, occ, defined


def render_snippet(seed, height=256, width=512, num_frames=30, camera=None,
                   objects=True):
    """Render one snippet in memory.

    Args:
        seed (int | Sequence[int]): seeds ``np.random.SeedSequence``; the
            same seed gives identical arrays.
        height, width (int): image size (each at least 16).
        num_frames (int): number of frames (at least 2).
        camera (dict, optional): :class:`~.scene.Camera` field overrides,
            e.g. ``dict(speed=1.0, zoom=0.0, yaw_amp=0.0, yaw_rate=0.0)``.
        objects (bool): include trees, cars, pedestrians and cyclists.

    Returns:
        dict: ``images`` (N, H, W, 3) uint8 BGR; ``labels`` (N, H, W) uint8
        train ids; ``flow_fw`` / ``flow_bw`` (N, H, W, 2) float32, frame
        ``t`` -> ``t + 1`` / ``t - 1`` (the last fw and first bw flow point
        to the virtual frames ``N`` and ``-1``, which are rendered but not
        returned, so every frame has both); ``occ_fw`` / ``occ_bw``
        (N, H, W) bool, True = occluded; ``valid_fw`` / ``valid_bw``
        (N, H, W) bool (flow defined; all True in practice); ``depth``
        (N, H, W) float32; ``layer_ids`` (N, H, W) int16;
        ``brightness`` (N,) float64 gains; ``layer_names`` list[str].
    """
    height, width, num_frames = int(height), int(width), int(num_frames)
    if height < 16 or width < 16:
        raise ValueError(f'image size must be at least 16x16, got '
                         f'{height}x{width}')
    if num_frames < 2:
        raise ValueError(f'num_frames must be >= 2, got {num_frames}')
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    cam, layers = sample_scene(rng, height, width, num_frames, camera,
                               objects)
    gains = np.clip(
        1.0 + np.cumsum(rng.normal(0, 0.01, num_frames)) -
        rng.normal(0, 0.01), 0.85, 1.15)
    bufs = {t: render_frame(layers, cam, t) for t in range(-1, num_frames + 1)}
    N, Hh, W = num_frames, height, width
    out = dict(
        images=np.empty((N, Hh, W, 3), np.uint8),
        labels=np.empty((N, Hh, W), np.uint8),
        flow_fw=np.empty((N, Hh, W, 2), np.float32),
        flow_bw=np.empty((N, Hh, W, 2), np.float32),
        occ_fw=np.empty((N, Hh, W), bool), occ_bw=np.empty((N, Hh, W), bool),
        valid_fw=np.empty((N, Hh, W), bool),
        valid_bw=np.empty((N, Hh, W), bool),
        depth=np.empty((N, Hh, W), np.float32),
        layer_ids=np.empty((N, Hh, W), np.int16),
        brightness=gains, layer_names=[layer.name for layer in layers])
    for t in range(N):
        b = bufs[t]
        # round(colour * gain), saturated to [0, 255]
        out['images'][t] = cv2.convertScaleAbs(b.colour, alpha=gains[t])
        out['labels'][t] = b.labels
        out['depth'][t] = b.depth
        out['layer_ids'][t] = b.ids
        (out['flow_fw'][t], out['occ_fw'][t],
         out['valid_fw'][t]) = flow_between(b, bufs[t + 1], W, Hh)
        (out['flow_bw'][t], out['occ_bw'][t],
         out['valid_bw'][t]) = flow_between(b, bufs[t - 1], W, Hh)
    return out
