"""Tests of efc_mm.ops: warp, range map, SSIM, correlation.

Every check compares against an independent computation (shifted tensors,
scipy, numpy formulas, a direct loop over mmcv's correlation formula).
Run: ``OMP_NUM_THREADS=1 PYTHONPATH=. python -m pytest tests/test_ops.py``.
"""
import itertools
import math

import numpy as np
import pytest
import torch
from scipy import ndimage

import efc_mm  # noqa: F401  (the mmcv.ops stand-in first)
from efc_mm.ops import (Correlation, correlation, occlusion_from_range_map,
                        range_map, ssim, warp)


def const_flow(n, h, w, u, v, dtype=torch.float64):
    flow = torch.zeros(n, 2, h, w, dtype=dtype)
    flow[:, 0] = u
    flow[:, 1] = v
    return flow


# ----------------------------------------------------------------- warp
@pytest.mark.parametrize('u,v', [(1, 0), (2, 0), (-3, 0), (0, 1), (2, -1)])
def test_warp_integer_translation(u, v):
    torch.manual_seed(0)
    n, c, h, w = 2, 3, 6, 7
    x = torch.rand(n, c, h, w, dtype=torch.float64)
    warped, valid = warp(x, const_flow(n, h, w, u, v))
    # expected: warped[..., y, x] = x[..., y + v, x + u] where inside
    expected_valid = torch.zeros(n, 1, h, w, dtype=torch.float64)
    ys = slice(max(0, -v), h - max(0, v))
    xs = slice(max(0, -u), w - max(0, u))
    expected_valid[:, :, ys, xs] = 1
    assert torch.equal(valid, expected_valid)
    src = x[:, :, max(0, v):h + min(0, v), max(0, u):w + min(0, u)]
    torch.testing.assert_close(warped[:, :, ys, xs], src, atol=1e-12,
                               rtol=0)
    assert valid.shape == (n, 1, h, w) and not valid.requires_grad


def test_warp_one_pixel_moves_exactly_one_pixel_float32():
    x = torch.arange(20.).view(1, 1, 4, 5)
    warped, valid = warp(x, const_flow(1, 4, 5, 1.0, 0.0, torch.float32))
    torch.testing.assert_close(warped[..., :4], x[..., 1:], atol=1e-5, rtol=0)
    assert valid[..., 4].sum() == 0 and valid[..., :4].all()


def test_warp_rotation_matches_scipy():
    torch.manual_seed(1)
    h, w = 9, 11
    img = np.random.RandomState(0).rand(h, w)
    theta = math.radians(10)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    # sample position = rotation of p about the centre; flow = that - p
    sx = cx + math.cos(theta) * (xx - cx) - math.sin(theta) * (yy - cy)
    sy = cy + math.sin(theta) * (xx - cx) + math.cos(theta) * (yy - cy)
    flow = torch.from_numpy(np.stack([sx - xx, sy - yy]))[None]
    warped, valid = warp(torch.from_numpy(img)[None, None], flow)
    ref = ndimage.map_coordinates(img, [sy, sx], order=1, mode='constant')
    inside = (sx >= 0) & (sx <= w - 1) & (sy >= 0) & (sy <= h - 1)
    np.testing.assert_array_equal(valid[0, 0].numpy() > 0, inside)
    assert 0 < inside.sum() < h * w  # the corners leave the frame
    np.testing.assert_allclose(warped[0, 0].numpy()[inside], ref[inside],
                               atol=1e-10)


def test_warp_gradcheck():
    torch.manual_seed(2)
    x = torch.rand(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    flow = (torch.rand(1, 2, 4, 5, dtype=torch.float64) * 1.6 - 0.8)
    flow = (flow + 0.13).requires_grad_()  # away from integer kinks
    assert torch.autograd.gradcheck(lambda a, f: warp(a, f)[0], (x, flow))


def test_warp_bad_input():
    x = torch.rand(1, 3, 4, 5)
    with pytest.raises(ValueError, match=r'\(N, 2, H, W\)'):
        warp(x, torch.zeros(1, 3, 4, 5))
    with pytest.raises(ValueError, match='spatial size'):
        warp(x, torch.zeros(1, 2, 4, 6))
    with pytest.raises(ValueError, match='spatial size'):
        warp(x, torch.zeros(2, 2, 4, 5))
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        warp(x[0], torch.zeros(1, 2, 4, 5))
    with pytest.raises(ValueError, match='floating'):
        warp(x, torch.zeros(1, 2, 4, 5, dtype=torch.long))


def test_ops_create_nothing_on_another_device():
    """On the meta device any tensor made on the CPU would raise a device
    mismatch: warp and the range map build their grids on flow.device."""
    flow = torch.zeros(1, 2, 4, 5, device='meta')
    x = torch.zeros(1, 3, 4, 5, device='meta')
    warped, valid = warp(x, flow)
    assert warped.device.type == 'meta' and valid.device.type == 'meta'
    assert range_map(flow).device.type == 'meta'


# ----------------------------------------------------------- range map
@pytest.mark.parametrize('k', [1, 2, 3])
def test_range_map_translation_marks_exactly_k_columns(k):
    # frame i+t = frame i moved right by k px: F_{i->i+t} = +k,
    # F_{i+t->i} = -k; the last k columns of frame i leave the frame.
    h, w = 5, 8
    occ = occlusion_from_range_map(const_flow(2, h, w, -k, 0.0))
    expected = torch.zeros(2, 1, h, w, dtype=torch.float64)
    expected[..., w - k:] = 1
    assert torch.equal(occ, expected)
    occ_v = occlusion_from_range_map(const_flow(1, h, w, 0.0, k))
    expected_v = torch.zeros(1, 1, h, w, dtype=torch.float64)
    expected_v[..., :k, :] = 1  # moved down: the first k rows are uncovered
    assert torch.equal(occ_v, expected_v)


def test_range_map_zero_flow_and_fraction():
    flow = const_flow(1, 4, 6, 0.0, 0.0)
    assert torch.equal(range_map(flow), torch.ones(1, 1, 4, 6,
                                                   dtype=torch.float64))
    assert occlusion_from_range_map(flow).sum() == 0
    # half-pixel shift: pixel x receives 0.5 from q = x and 0.5 from
    # q = x - 1; pixel 0 only 0.5 (nothing lands left of it)
    mass = range_map(const_flow(1, 4, 6, 0.5, 0.0))
    expected = torch.ones(1, 1, 4, 6, dtype=torch.float64)
    expected[..., 0] = 0.5
    torch.testing.assert_close(mass, expected)
    # converging flow: mass is clamped to 1
    flow = torch.zeros(1, 2, 3, 4, dtype=torch.float64)
    flow[0, 0, :, 1] = -1  # column 1 lands on column 0 (mass 2 there)
    mass = range_map(flow)
    assert mass.max() == 1 and torch.all(mass[..., 1] == 0)
    assert torch.equal(occlusion_from_range_map(flow)[0, 0, :, 1],
                       torch.ones(3, dtype=torch.float64))


def test_range_map_threshold_and_no_grad():
    flow = const_flow(1, 3, 5, 0.85, 0.0).requires_grad_()
    # pixel 0 receives 1 - 0.85 = 0.15 < 0.2 -> occluded
    occ = occlusion_from_range_map(flow)
    assert not occ.requires_grad
    assert occ[0, 0, :, 0].eq(1).all() and occ[0, 0, :, 1:].eq(0).all()
    assert occlusion_from_range_map(flow, threshold=0.1).sum() == 0
    with pytest.raises(ValueError):
        occlusion_from_range_map(flow, threshold=0)
    with pytest.raises(ValueError):
        range_map(torch.zeros(1, 1, 3, 5))


# ---------------------------------------------------------------- SSIM
def numpy_ssim(x, y, c1=0.01**2, c2=0.03**2):
    """Direct formula with scipy's 3x3 box ('mirror' = reflection without
    edge repetition, like F.pad(mode='reflect'))."""
    def box(a):
        return ndimage.uniform_filter(a, size=3, mode='mirror')
    mx, my = box(x), box(y)
    vx = box(x * x) - mx**2
    vy = box(y * y) - my**2
    cxy = box(x * y) - mx * my
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / (
        (mx**2 + my**2 + c1) * (vx + vy + c2))


def test_ssim_against_numpy():
    rs = np.random.RandomState(3)
    x = rs.rand(2, 3, 7, 9)
    y = np.clip(x + 0.2 * rs.randn(2, 3, 7, 9), 0, 1)
    out = ssim(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    ref = np.stack([np.stack([numpy_ssim(x[i, c], y[i, c]) for c in range(3)])
                    for i in range(2)])
    assert out.shape == (2, 3, 7, 9)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    assert out.mean() < 0.95  # the noise is seen


def test_ssim_identity_and_errors():
    x = torch.rand(1, 3, 6, 5, dtype=torch.float64)
    torch.testing.assert_close(ssim(x, x), torch.ones_like(x), atol=1e-12,
                               rtol=0)
    with pytest.raises(ValueError):
        ssim(x, x[:, :2])
    with pytest.raises(ValueError):
        ssim(x[:, :, :1], x[:, :, :1])


# --------------------------------------------------------- correlation
def correlation_loop(in1, in2, k, md, s, pad, dil, dp):
    """mmcv's formula, one output element at a time (autograd through it)."""
    n, c, h, w = in1.shape
    p = 2 * md + 1
    oh = (h + 2 * pad - dil * (k - 1) - 1) // s + 1
    ow = (w + 2 * pad - dil * (k - 1) - 1) // s + 1
    out = [[[[None] * ow for _ in range(oh)] for _ in range(p)]
           for _ in range(p)]
    zero = in1.new_zeros(n)
    for ph, pw, y, x in itertools.product(range(p), range(p), range(oh),
                                          range(ow)):
        dy, dx = (ph - md) * dp, (pw - md) * dp
        acc = zero
        for i, j in itertools.product(range(k), range(k)):
            h1, w1 = y * s - pad + i * dil, x * s - pad + j * dil
            if 0 <= h1 < h and 0 <= w1 < w and 0 <= h1 + dy < h \
                    and 0 <= w1 + dx < w:
                acc = acc + (in1[:, :, h1, w1] * in2[:, :, h1 + dy,
                                                     w1 + dx]).sum(1)
        out[ph][pw][y][x] = acc
    return torch.stack([torch.stack([torch.stack([torch.stack(r, -1)
                                                  for r in rows], -2)
                                     for rows in col], 1) for col in out], 1)


CORR_CASES = [
    # kernel, max_disp, stride, padding, dilation, dilation_patch
    (1, 1, 1, 0, 1, 1),
    (1, 2, 1, 0, 1, 2),
    (1, 2, 2, 0, 1, 2),
    (1, 1, 2, 1, 1, 1),
    (3, 1, 1, 1, 1, 1),
    (3, 1, 2, 2, 2, 2),
    (1, 0, 1, 0, 1, 1),
]


@pytest.mark.parametrize('k,md,s,pad,dil,dp', CORR_CASES)
def test_correlation_matches_loop_forward_backward(k, md, s, pad, dil, dp):
    torch.manual_seed(4)
    a = torch.randn(2, 3, 6, 7, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 3, 6, 7, dtype=torch.float64, requires_grad=True)
    out = correlation(a, b, kernel_size=k, max_displacement=md, stride=s,
                      padding=pad, dilation=dil, dilation_patch=dp)
    ref = correlation_loop(a, b, k, md, s, pad, dil, dp)
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=1e-12)
    g = torch.randn_like(ref)
    ga, gb = torch.autograd.grad((out * g).sum(), (a, b))
    ra, rb = torch.autograd.grad((ref * g).sum(), (a, b))
    torch.testing.assert_close(ga, ra, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(gb, rb, atol=1e-12, rtol=1e-12)


def test_correlation_gradcheck_and_module():
    torch.manual_seed(5)
    a = torch.randn(1, 2, 5, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(1, 2, 5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x, y: correlation(x, y, 1, 2, 1, 0, 1, 2), (a, b))
    mod = Correlation(max_displacement=2, dilation_patch=2)
    torch.testing.assert_close(mod(a, b), correlation(a, b, 1, 2, 1, 0, 1, 2))
    assert 'max_displacement=2' in repr(mod)
    # only one input needs a gradient
    b2 = b.detach()
    (ga, ) = torch.autograd.grad(correlation(a, b2, 1, 1).sum(), (a, ))
    (ra, ) = torch.autograd.grad(correlation_loop(a, b2, 1, 1, 1, 0, 1,
                                                  1).sum(), (a, ))
    torch.testing.assert_close(ga, ra)


def test_correlation_float32_and_large_displacement():
    """Displacements larger than the image: everything outside reads 0."""
    torch.manual_seed(6)
    a = torch.randn(1, 4, 5, 6)
    b = torch.randn(1, 4, 5, 6)
    out = correlation(a, b, max_displacement=4, dilation_patch=2)
    ref = correlation_loop(a, b, 1, 4, 1, 0, 1, 2)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert out[0, 0].abs().sum() == 0  # dy = -8 never inside a 5-row image


def test_correlation_bad_input():
    a = torch.randn(1, 3, 5, 5)
    with pytest.raises(ValueError, match='same shape'):
        correlation(a, torch.randn(1, 3, 5, 4))
    with pytest.raises(ValueError, match='same shape'):
        correlation(a[0], a[0])
    with pytest.raises(ValueError, match='empty'):
        correlation(a, a, kernel_size=7)
    with pytest.raises(ValueError, match='>= 1'):
        correlation(a, a, stride=0)
    with pytest.raises(ValueError):
        correlation(a, a.double())
