"""Tests of the EFC losses (efc_mm.models.losses) on hand-computable cases.

Run: ``OMP_NUM_THREADS=1 PYTHONPATH=. python -m pytest tests/test_losses.py``.
"""
import math

import numpy as np
import pytest
import torch

import efc_mm  # noqa: F401
from efc_mm.models.losses import (FeatureConsistencyLoss, OcclusionLoss,
                                  PhotometricLoss, SmoothnessLoss,
                                  seg_occlusion_error)
from efc_mm.models.losses.photometric_loss import census_transform
from efc_mm.ops import occlusion_from_range_map, warp
from efc_mm.registry import MODELS

D = torch.float64


def const(n, c, h, w, value):
    return torch.full((n, c, h, w), float(value), dtype=D)


def test_built_from_registry_and_loss_name_checked():
    for name in ('PhotometricLoss', 'SmoothnessLoss', 'FeatureConsistencyLoss',
                 'OcclusionLoss'):
        assert type(MODELS.build(dict(type=name))).__name__ == name
        # mmengine sums and logs only keys that start with 'loss_'
        with pytest.raises(ValueError, match="start with 'loss_'"):
            MODELS.build(dict(type=name, loss_name='pm'))


# ---------------------------------------------------------- photometric
def ssim_const(a, b, c1=0.01**2):
    """SSIM of two constant images: variances and covariance are 0."""
    return (2 * a * b + c1) / (a * a + b * b + c1)


def test_photometric_constant_images_by_hand():
    a, b, beta = 0.3, 0.7, 0.85
    g = beta * (1 - ssim_const(a, b)) / 2 + (1 - beta) * abs(a - b)
    img, warped = const(2, 3, 5, 6, a), const(2, 3, 5, 6, b)
    loss = PhotometricLoss()
    torch.testing.assert_close(loss.compute(img, warped), torch.tensor(g, dtype=D))
    # beta = 0: pure L1, loss_weight scales
    loss = PhotometricLoss(beta=0.0, loss_weight=2.0)
    torch.testing.assert_close(loss.compute(img, warped),
                               torch.tensor(2 * 0.4, dtype=D))


def test_photometric_weighting_one_plus_error_minus_est():
    a, b = 0.2, 0.6
    g = 0.85 * (1 - ssim_const(a, b)) / 2 + 0.15 * abs(a - b)
    img, warped = const(1, 3, 4, 4, a), const(1, 3, 4, 4, b)
    occ_est = torch.zeros(1, 1, 4, 4, dtype=D)
    occ_est[..., :2] = 0.5  # half the pixels: O_est = 0.5
    occ_err = torch.zeros(1, 1, 4, 4, dtype=D)
    occ_err[..., 0, :] = 1.0  # first row: O_error = 1
    valid = torch.ones(1, 1, 4, 4, dtype=D)
    valid[..., 3, :] = 0  # last row excluded
    weight = 1 + occ_err - occ_est
    expected = (g * weight)[..., :3, :].mean()
    out = PhotometricLoss().compute(img, warped, occ_est, occ_err, valid)
    torch.testing.assert_close(out, expected)
    # O_est keeps its gradient: d loss / d O_est = -G / n_valid
    occ_est.requires_grad_()
    (grad, ) = torch.autograd.grad(
        PhotometricLoss().compute(img, warped, occ_est, occ_err, valid), occ_est)
    ref = -g / 12 * valid
    torch.testing.assert_close(grad, ref)
    # O_error is a constant weight (no gradient path)
    occ_err.requires_grad_()
    out = PhotometricLoss().compute(img, warped, occ_est, occ_err)
    assert torch.autograd.grad(out, occ_err, allow_unused=True)[0] is None


def test_photometric_gradcheck_through_warp():
    torch.manual_seed(0)
    img = torch.rand(1, 3, 5, 5, dtype=D)
    nb = torch.rand(1, 3, 5, 5, dtype=D)
    flow = (torch.rand(1, 2, 5, 5, dtype=D) * 0.6 + 0.1).requires_grad_()
    occ = (torch.rand(1, 1, 5, 5, dtype=D) * 0.8).requires_grad_()
    loss = PhotometricLoss()

    def f(fl, o):
        warped, valid = warp(nb, fl)
        return loss.compute(img, warped, o, None, valid)
    assert torch.autograd.gradcheck(f, (flow, occ))


def test_seg_occlusion_error():
    logits = torch.zeros(1, 3, 2, 2, dtype=D)
    logits[:, 0] = 1  # class 0 everywhere
    warped = logits.clone()
    warped[0, :, 0, 0] = torch.tensor([0., 0., 1.])  # class 2 at (0, 0)
    warped[0, :, 1, 1] = torch.tensor([0., 1., 0.])  # class 1 at (1, 1)
    occ = torch.tensor([[[[0.25, 0.9], [0.0, 1.0]]]], dtype=D,
                       requires_grad=True)
    err = seg_occlusion_error(logits, warped, occ)
    expected = torch.tensor([[[[0.75, 0.0], [0.0, 0.0]]]], dtype=D)
    torch.testing.assert_close(err, expected)
    assert not err.requires_grad
    valid = torch.zeros(1, 1, 2, 2, dtype=D)
    assert seg_occlusion_error(logits, warped, occ, valid).sum() == 0
    with pytest.raises(ValueError):
        seg_occlusion_error(logits, warped[:, :2], occ)


# ----------------------------------------------------------- smoothness
def test_smoothness_ramp_and_edge_by_hand():
    h, w, a = 5, 6, 0.7
    xs = torch.arange(w, dtype=D).view(1, 1, 1, w).expand(1, 1, h, w)
    flow = torch.cat([a * xs, torch.zeros_like(xs)], 1)  # du/dx = a
    flat = const(1, 3, h, w, 0.5)
    # x term: a everywhere, y term 0 -> mean of the two = a / 2
    torch.testing.assert_close(SmoothnessLoss(loss_weight=1.0, order=1, edge_constant=10.0).compute(flow, flat),
                               torch.tensor(a / 2, dtype=D))
    # vertical image edge of height 0.1 between columns 2 and 3
    img = flat.clone()
    img[..., 3:] += 0.1
    lam = 10.0
    weights = torch.ones(w - 1, dtype=D)
    weights[2] = math.exp(-lam * 0.1)
    expected = 0.5 * (a * weights).mean()
    out = SmoothnessLoss(edge_constant=lam, order=1).compute(flow, img)
    torch.testing.assert_close(out, 0.5 * expected)  # loss_weight 0.5
    # |grad F|_1 sums u and v: the same ramp in v doubles the x term
    flow2 = torch.cat([a * xs, a * xs], 1)
    torch.testing.assert_close(SmoothnessLoss(loss_weight=1.0, order=1, edge_constant=10.0).compute(flow2, flat),
                               torch.tensor(a, dtype=D))


def test_smoothness_gradcheck_and_errors():
    torch.manual_seed(1)
    flow = torch.randn(1, 2, 4, 5, dtype=D, requires_grad=True)
    img = torch.rand(1, 3, 4, 5, dtype=D)
    assert torch.autograd.gradcheck(lambda f: SmoothnessLoss(order=1).compute(f, img),
                                    (flow, ))
    with pytest.raises(ValueError):
        SmoothnessLoss().compute(flow, img[..., :4])
    with pytest.raises(ValueError):
        SmoothnessLoss().compute(flow[:, :1], img)


# ---------------------------------------------------------- consistency
def test_consistency_by_hand_and_detached_mask():
    feat = const(1, 4, 3, 3, 1.0)
    warped = feat.clone()
    warped[:, :2] += 2.0  # squared diff 4 on 2 of 4 channels -> mean 2
    occ = torch.zeros(1, 1, 3, 3, dtype=D)
    occ[..., 0, :] = 0.5
    occ[..., 1, :] = 1.0
    valid = torch.ones(1, 1, 3, 3, dtype=D)
    valid[..., 0] = 0  # first column invalid
    # per pixel 2 * (1 - O): rows 1.0, 0.0, 2.0 -> mean over 6 valid = 1.0
    loss = FeatureConsistencyLoss(weight_schedule=None)
    torch.testing.assert_close(loss.compute(feat, warped, occ, valid),
                               torch.tensor(10.0, dtype=D))
    torch.testing.assert_close(loss.compute(feat, warped),
                               torch.tensor(20.0, dtype=D))
    occ.requires_grad_()
    feat.requires_grad_()
    out = loss.compute(feat, warped, occ, valid)
    g_occ, g_feat = torch.autograd.grad(out, (occ, feat), allow_unused=True)
    assert g_occ is None  # mask detached
    # d/dS of 10 * mean((S'-S)^2 / C * (1-O)) = -10 * 2 (S'-S) (1-O) / (C n)
    ref = -10 * 2 * (warped - feat.detach()) * (1 - occ.detach()) * valid \
        / (4 * 6)
    torch.testing.assert_close(g_feat, ref)


def test_consistency_gradient_reaches_flow():
    torch.manual_seed(2)
    feat = torch.rand(1, 3, 5, 5, dtype=D, requires_grad=True)
    nb = torch.rand(1, 3, 5, 5, dtype=D, requires_grad=True)
    flow = (torch.rand(1, 2, 5, 5, dtype=D) * 0.5 + 0.2).requires_grad_()
    occ = torch.rand(1, 1, 5, 5, dtype=D)

    def f(a, b, fl):
        warped, valid = warp(b, fl)
        return FeatureConsistencyLoss(weight_schedule=None).compute(a, warped, occ, valid)
    assert torch.autograd.gradcheck(f, (feat, nb, flow))


# ------------------------------------------------------------ occlusion
def test_occlusion_by_hand():
    o = torch.tensor([[[[0.2, 0.7], [0.9, 0.05]]]], dtype=D)
    t = torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]]], dtype=D)
    alpha = 0.2
    per = [-math.log(1 - 0.2), -math.log(0.7), -math.log(0.9),
           -math.log(1 - 0.05)]
    per = [p - alpha * math.exp(-v) for p, v in zip(per, [0.2, 0.7, 0.9,
                                                          0.05])]
    out = OcclusionLoss().compute(o, t)
    torch.testing.assert_close(out, torch.tensor(0.4 * sum(per) / 4,
                                                 dtype=D))
    valid = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]], dtype=D)
    torch.testing.assert_close(
        OcclusionLoss(loss_weight=1.0).compute(o, t, valid),
        torch.tensor((per[0] + per[2]) / 2, dtype=D))
    # finite at the ends of [0, 1]
    ends = torch.tensor([[[[0.0, 1.0]]]], dtype=D)
    assert torch.isfinite(OcclusionLoss().compute(ends, 1 - ends))


def test_occlusion_gradcheck_and_errors():
    torch.manual_seed(3)
    o = (torch.rand(1, 1, 3, 4, dtype=D) * 0.8 + 0.1).requires_grad_()
    t = (torch.rand(1, 1, 3, 4, dtype=D) > 0.5).to(D)
    assert torch.autograd.gradcheck(lambda x: OcclusionLoss().compute(x, t), (o, ))
    with pytest.raises(ValueError):
        OcclusionLoss().compute(o, t[..., :3])
    with pytest.raises(ValueError):
        OcclusionLoss().compute(o.expand(1, 2, 3, 4), t.expand(1, 2, 3, 4))
    with pytest.raises(ValueError):
        PhotometricLoss().compute(const(1, 3, 4, 4, 0), const(1, 3, 4, 4, 0),
                          torch.zeros(1, 1, 4, 5, dtype=D))
    with pytest.raises(ValueError):
        FeatureConsistencyLoss(weight_schedule=None).compute(const(1, 3, 4, 4, 0), const(1, 2, 4, 4, 0))


def test_no_valid_pixel_gives_zero_not_nan():
    img = const(1, 3, 4, 4, 0.2)
    out = PhotometricLoss().compute(img, img + 0.1, valid=torch.zeros(1, 1, 4, 4,
                                                              dtype=D))
    assert out == 0 and not torch.isnan(out)


def test_no_valid_pixel_gives_zero_not_nan_everywhere():
    feat = const(1, 2, 3, 3, 1.0)
    none = torch.zeros(1, 1, 3, 3, dtype=D)
    assert FeatureConsistencyLoss(weight_schedule=None).compute(feat, feat + 1, valid=none) == 0
    o = torch.full((1, 1, 3, 3), 0.3, dtype=D)
    assert OcclusionLoss().compute(o, none, valid=none) == 0


# ------------------------------------------------------------ census
def census_np(img, patch=7):
    """Soft census of UnFlow / UFlow by explicit loops: grey * 255, every
    neighbour ``q`` of the ``patch`` square (row-major offsets), zero outside
    the image, ``d / sqrt(0.81 + d^2)`` with ``d = I(q) - I(p)``."""
    g = img.mean(0) * 255.0
    h, w = g.shape
    r = patch // 2
    out = np.zeros((patch * patch, h, w))
    for y in range(h):
        for x in range(w):
            k = 0
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    yy, xx = y + dy, x + dx
                    q = g[yy, xx] if 0 <= yy < h and 0 <= xx < w else 0.0
                    d = q - g[y, x]
                    out[k, y, x] = d / math.sqrt(0.81 + d * d)
                    k += 1
    return out


def census_distance_np(a, b):
    """Soft Hamming distance ``sq / (0.1 + sq)`` averaged over the 49
    neighbours, per pixel."""
    sq = (census_np(a) - census_np(b))**2
    return (sq / (0.1 + sq)).mean(0)


def test_census_transform_and_loss_against_numpy_loops():
    rng = np.random.default_rng(0)
    a = rng.random((3, 5, 6))
    b = rng.random((3, 5, 6))
    ta = torch.from_numpy(a)[None]
    tb = torch.from_numpy(b)[None]
    got = census_transform(ta)
    assert got.shape == (1, 49, 5, 6)
    np.testing.assert_allclose(got[0].numpy(), census_np(a), rtol=0,
                               atol=1e-12)
    loss = PhotometricLoss(error='census', loss_weight=2.0)
    torch.testing.assert_close(
        loss.compute(ta, tb), torch.tensor(2.0 * census_distance_np(a, b).mean(),
                                   dtype=D))
    # weighted by (1 - O_est) and averaged over valid pixels as eq. 5
    occ = torch.from_numpy(rng.random((1, 1, 5, 6)) * 0.5)
    valid = torch.ones(1, 1, 5, 6, dtype=D)
    valid[..., 0] = 0
    per = census_distance_np(a, b) * (1 - occ[0, 0].numpy())
    torch.testing.assert_close(
        PhotometricLoss(error='census').compute(ta, tb, occ, None, valid),
        torch.tensor(per[:, 1:].mean(), dtype=D))
    # identical images: 0
    assert PhotometricLoss(error='census').compute(ta, ta.clone()) == 0
    with pytest.raises(ValueError, match='odd'):
        census_transform(ta, patch_size=4)


def test_census_ignores_a_brightness_offset_that_l1_sees():
    """I' = I + c: away from the zero-padded border (3 px) the census
    distance is exactly 0, while the L1 term is c."""
    rng = np.random.default_rng(1)
    img = torch.from_numpy(rng.random((1, 3, 9, 10)) * 0.5 + 0.2)
    brighter = img + 0.1
    interior = torch.zeros(1, 1, 9, 10, dtype=D)
    interior[..., 3:-3, 3:-3] = 1
    census = PhotometricLoss(error='census').compute(img, brighter, valid=interior)
    l1 = PhotometricLoss(beta=0.0).compute(img, brighter, valid=interior)
    assert abs(census.item()) < 1e-12
    torch.testing.assert_close(l1, torch.tensor(0.1, dtype=D))
    # over the whole image only the border moves, far less than L1
    assert PhotometricLoss(error='census').compute(img, brighter) < 0.5 * 0.1


def test_photometric_grad_to_flow_only_stops_the_occlusion_gradient():
    """grad_to=('flow',): the same L_pm, no gradient into O_est, the same
    gradient into the flow as the default ('flow', 'occ')."""
    out, imgs = _decoder_out(), _pair_imgs()

    def grads(**kw):
        ctx, leaves = _ctx(out, imgs)
        pm = PhotometricLoss(seg_error=False, **kw)
        value = pm(ctx)['loss_pm']
        g = torch.autograd.grad(value, leaves['flows'] + leaves['occs'],
                                allow_unused=True)
        return value, g[:4], g[4:]
    v_ref, gf_ref, go_ref = grads()
    v, gf, go = grads(grad_to=['flow'])
    torch.testing.assert_close(v, v_ref)
    assert go_ref[3].abs().sum() > 0 and all(g is None for g in go)
    torch.testing.assert_close(gf[3], gf_ref[3])
    with pytest.raises(ValueError, match="grad_to names 'occ'"):
        PhotometricLoss(occlusion_weighting=False, grad_to=['flow', 'occ'])
    assert PhotometricLoss(occlusion_weighting=False).grad_to == ('flow', )


# ------------------------------------------------- second-order smoothness
def _grid(h, w):
    ys, xs = torch.meshgrid(torch.arange(h, dtype=D),
                            torch.arange(w, dtype=D), indexing='ij')
    return xs[None], ys[None]


def test_second_order_smoothness_affine_field_costs_nothing():
    x, y = _grid(6, 7)
    a, b, c, d, e, f = 0.3, -0.7, 2.0, 1.1, 0.25, -4.0
    flow = torch.stack([a * x + b * y + c, d * x + e * y + f], 1)
    flat = const(1, 3, 6, 7, 0.4)
    second = SmoothnessLoss(order=2, loss_weight=1.0).compute(flow, flat)
    assert abs(second.item()) < 1e-12
    # first order: mean over the two directions of |du| + |dv|
    first = SmoothnessLoss(order=1, loss_weight=1.0).compute(flow, flat)
    expected = 0.5 * ((abs(a) + abs(d)) + (abs(b) + abs(e)))
    torch.testing.assert_close(first, torch.tensor(expected, dtype=D))


def test_second_order_smoothness_quadratic_field_and_edge_by_hand():
    """u = q x^2 + r y^2, v = t y^2: the second difference of u is 2q in x
    and 2r in y, of v 0 in x and 2t in y."""
    h, w = 5, 7
    x, y = _grid(h, w)
    q, r, t = 0.2, -0.05, 0.3
    flow = torch.stack([q * x * x + r * y * y, t * y * y], 1)
    flat = const(1, 3, h, w, 0.5)
    expected = 0.5 * (2 * abs(q) + (2 * abs(r) + 2 * abs(t)))
    torch.testing.assert_close(SmoothnessLoss(order=2).compute(flow, flat),
                               torch.tensor(0.5 * expected, dtype=D))
    # u = q x^3: second difference 6 q p at column p. A vertical image edge
    # (0.1) between columns 2 and 3 weights the x term at the interior column
    # p by exp(-lambda |I(p + 1) - I(p)|): p = 2 gets exp(-1), the others 1;
    # the y term sees no edge
    img = flat.clone()
    img[..., 3:] += 0.1
    flow = torch.stack([q * x**3, t * y * y], 1)
    cols = range(1, w - 1)
    x_term = sum(6 * abs(q) * p * (math.exp(-1.0) if p == 2 else 1.0)
                 for p in cols) / len(cols)
    expected = 0.5 * (x_term + 2 * abs(t))
    torch.testing.assert_close(
        SmoothnessLoss(order=2, loss_weight=1.0,
                       edge_constant=10.0).compute(flow, img),
        torch.tensor(expected, dtype=D))


def test_second_order_smoothness_gradcheck_and_errors():
    torch.manual_seed(5)
    flow = torch.randn(1, 2, 4, 5, dtype=D, requires_grad=True)
    img = torch.rand(1, 3, 4, 5, dtype=D)
    assert torch.autograd.gradcheck(
        lambda fl: SmoothnessLoss(order=2).compute(fl, img), (flow, ))
    with pytest.raises(ValueError, match='3x3'):
        SmoothnessLoss(order=2).compute(flow[..., :2, :], img[..., :2, :])
    with pytest.raises(ValueError, match='order'):
        SmoothnessLoss(order=3)
    with pytest.raises(ValueError, match='resolution'):
        SmoothnessLoss(resolution='full')


# ------------------------------------------------- consistency options
def test_consistency_normalize_by_hand():
    # pixel 0: S = (3, 4) -> (0.6, 0.8), S' = (8, 6) -> (0.8, 0.6)
    # pixel 1: S = (1, 0),                S' = (0, 5) -> (0, 1)
    feat = torch.tensor([[[[3.0, 1.0]], [[4.0, 0.0]]]], dtype=D)
    warped = torch.tensor([[[[8.0, 0.0]], [[6.0, 5.0]]]], dtype=D)
    per_pixel = [(0.2**2 + 0.2**2) / 2, (1.0 + 1.0) / 2]
    loss = FeatureConsistencyLoss(normalize=True, weight_schedule=None)
    torch.testing.assert_close(
        loss.compute(feat, warped), torch.tensor(10 * sum(per_pixel) / 2, dtype=D))
    # a per-pixel rescaling of either side changes nothing
    scale = torch.tensor([[[[7.0, 0.1]]]], dtype=D)
    torch.testing.assert_close(loss.compute(feat * scale, warped / scale),
                               loss.compute(feat, warped))
    # without normalisation the raw difference counts
    raw = ((8 - 3)**2 + (6 - 4)**2) / 2 + (1 + 25) / 2
    torch.testing.assert_close(FeatureConsistencyLoss(weight_schedule=None).compute(feat, warped),
                               torch.tensor(10 * raw / 2, dtype=D))


def _cons_grads(grad_to, level=-1):
    """Gradients of L_cons (on shared features of level ``level``) into the
    frame's own features, its partner's and the flow of the matching
    level."""
    out, imgs = _decoder_out(), _pair_imgs()
    g = torch.Generator().manual_seed(9)
    feat = torch.rand(2, 3, 4, 3, generator=g, dtype=D, requires_grad=True)
    ctx, leaves = _ctx(out, imgs, shared=[feat])
    loss = FeatureConsistencyLoss(weight_schedule=None, level=level,
                                  occlusion_mask=False, grad_to=grad_to)
    value = loss(ctx)['loss_cons']
    g_feat, g_flow = torch.autograd.grad(value, (feat, leaves['flows'][2]),
                                         allow_unused=True)
    return value, g_feat, g_flow


def test_consistency_grad_to_routes_each_path():
    """grad_to: 'seg' = the frame's own S, 'target' = the partner inside
    S', 'flow' = the warp. Each path is checked against the full gradient
    (all three) by autograd on the same tensors."""
    v_all, g_all, gf_all = _cons_grads(['seg', 'target', 'flow'])
    v_seg, g_seg, gf_seg = _cons_grads(['seg'])
    v_sf, g_sf, gf_sf = _cons_grads(['seg', 'flow'])
    torch.testing.assert_close(v_seg, v_all)  # routing never changes values
    assert gf_seg is None  # efc_mm's default: the flow is not trained
    assert gf_sf is not None and gf_sf.abs().sum() > 0  # "TC" of Table 2
    torch.testing.assert_close(gf_sf, gf_all)
    torch.testing.assert_close(g_sf, g_seg)  # the partner stays a target
    assert (g_all - g_seg).abs().sum() > 0  # 'target' adds the partner's
    # the seg-only gradient by hand: d/dS 10 mean (S' - S)^2 / C over valid
    _, _, gt_only = _cons_grads(['target'])
    assert gt_only is None


def test_consistency_level_and_grad_to_validation():
    assert FeatureConsistencyLoss(level='seg').level == 'seg'
    assert FeatureConsistencyLoss(level=2).level == 2
    for bad in ('deepest', 1.5, None):
        with pytest.raises(ValueError, match='level'):
            FeatureConsistencyLoss(level=bad)
    with pytest.raises(ValueError, match="grad_to.*'occ'"):
        FeatureConsistencyLoss(grad_to=['seg', 'occ'])
    with pytest.raises(ValueError, match='grad_to is empty'):
        FeatureConsistencyLoss(grad_to=[])
    assert FeatureConsistencyLoss().grad_to == ('seg', )
    assert OcclusionLoss().grad_to == ('occ', )
    with pytest.raises(ValueError, match='grad_to'):
        SmoothnessLoss(grad_to=['seg'])


def test_fractional_schedule_follows_the_run_length():
    """Floats are fractions of max_iters: the same config gives the same
    ramp at 400 and 4000 iterations; integers stay iterations."""
    for max_iters in (400, 4000):
        loss = FeatureConsistencyLoss(loss_weight=10.0)  # 0.3 -> 0.5
        for frac, weight in ((0.29, 0.0), (0.4, 5.0), (0.5, 10.0),
                             (0.9, 10.0)):
            loss.set_iteration(int(round(frac * max_iters)), max_iters)
            assert loss.current_weight == pytest.approx(weight), (max_iters,
                                                                  frac)
    loss = FeatureConsistencyLoss()
    loss.set_iteration(10)
    with pytest.raises(RuntimeError, match='fractions of the run'):
        loss.current_weight
    with pytest.raises(ValueError, match='weight_schedule'):
        FeatureConsistencyLoss(weight_schedule=dict(begin=0.5, end=1.5))
    absolute = FeatureConsistencyLoss(weight_schedule=dict(begin=10, end=20))
    absolute.set_iteration(15, 4000)
    assert absolute.current_weight == pytest.approx(5.0)


# ------------------------------------------------ occlusion target options
def splat_np(flow):
    """Range map by loops: every pixel q moves to q + flow(q) and gives its
    four bilinear corners their weights (corners outside are dropped);
    the mass is clamped to [0, 1]."""
    _, h, w = flow.shape
    mass = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            tx, ty = x + flow[0, y, x], y + flow[1, y, x]
            x0, y0 = math.floor(tx), math.floor(ty)
            fx, fy = tx - x0, ty - y0
            for cx, cy, wt in ((x0, y0, (1 - fx) * (1 - fy)),
                               (x0 + 1, y0, fx * (1 - fy)),
                               (x0, y0 + 1, (1 - fx) * fy),
                               (x0 + 1, y0 + 1, fx * fy)):
                if 0 <= cx < w and 0 <= cy < h:
                    mass[cy, cx] += wt
    return np.clip(mass, 0, 1)


def _shift(u, h=4, w=5):
    flow = torch.zeros(1, 2, h, w, dtype=D)
    flow[:, 0] = u
    return flow


def test_occlusion_soft_target_by_hand():
    soft = OcclusionLoss(target='soft')
    # every pixel of frame i+t moves one pixel right: column 0 of frame i
    # receives nothing (occluded, 1), every other column exactly 1 (0)
    expected = torch.zeros(1, 1, 4, 5, dtype=D)
    expected[..., 0] = 1
    torch.testing.assert_close(soft.make_target(_shift(1.0)), expected)
    torch.testing.assert_close(OcclusionLoss().make_target(_shift(1.0)),
                               expected)
    # half a pixel: column 0 receives 0.5 -> soft 0.5; the hard target
    # depends on the threshold
    half = expected * 0.5
    torch.testing.assert_close(soft.make_target(_shift(0.5)), half)
    assert OcclusionLoss(threshold=0.2).make_target(_shift(0.5)).sum() == 0
    torch.testing.assert_close(
        OcclusionLoss(threshold=0.6).make_target(_shift(0.5)), expected)
    # all pixels land on column 0: mass 5 is clamped to 1
    x, _ = _grid(4, 5)
    converge = torch.stack([-x, torch.zeros_like(x)], 1)
    torch.testing.assert_close(soft.make_target(converge), 1 - expected)


def test_occlusion_soft_target_matches_numpy_splatting():
    rng = np.random.default_rng(2)
    flow = rng.uniform(-2, 2, (2, 2, 6, 7))
    target = OcclusionLoss(target='soft').make_target(
        torch.from_numpy(flow).requires_grad_())
    assert not target.requires_grad
    for i in range(2):
        np.testing.assert_allclose(target[i, 0].numpy(),
                                   1 - splat_np(flow[i]), atol=1e-12)


def test_occlusion_option_validation_and_nan_propagates():
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match='threshold'):
            OcclusionLoss(threshold=bad)
    OcclusionLoss(threshold=1.0)
    with pytest.raises(ValueError, match='target'):
        OcclusionLoss(target='fuzzy')
    # the segmentor checks the summed loss once per step: a NaN O_est must
    # give a NaN loss, not an exception inside the BCE
    o = torch.full((1, 1, 2, 2), 0.3, dtype=D)
    o[..., 0, 0] = float('nan')
    out = OcclusionLoss().compute(o, torch.zeros_like(o))
    assert torch.isnan(out)


# ---------------------------------------------------- BaseEFCLoss options
def test_weight_schedule_ramp_by_hand():
    loss = SmoothnessLoss(loss_weight=2.0, order=1,
                          weight_schedule=dict(begin=10, end=20))
    for it, weight in ((0, 0.0), (9, 0.0), (10, 0.0), (12, 0.4),
                       (15, 1.0), (20, 2.0), (1000, 2.0)):
        loss.set_iteration(it)
        assert loss.current_weight == pytest.approx(weight)
        assert loss.active == (weight > 0)
    # the value follows the weight
    x, _ = _grid(3, 4)
    flow = torch.stack([x, torch.zeros_like(x)], 1)
    loss.set_iteration(15)
    torch.testing.assert_close(loss.compute(flow, const(1, 3, 3, 4, 0.5)),
                               torch.tensor(1.0 * 0.5, dtype=D))
    # begin == end: a step
    step = OcclusionLoss(weight_schedule=dict(begin=5, end=5))
    step.set_iteration(4)
    assert step.current_weight == 0
    step.set_iteration(5)
    assert step.current_weight == pytest.approx(0.4)
    # only end: begin 0
    ramp = PhotometricLoss(weight_schedule=dict(end=4))
    ramp.set_iteration(1)
    assert ramp.current_weight == pytest.approx(0.25)
    assert PhotometricLoss().current_weight == 1.0  # no schedule


@pytest.mark.parametrize('schedule', [
    dict(begin=20, end=10), dict(begin=-1, end=5), dict(start=0, end=5),
    dict(begin=0, end=5, gamma=0.1)])
def test_bad_weight_schedule_rejected(schedule):
    with pytest.raises(ValueError, match='weight_schedule'):
        FeatureConsistencyLoss(weight_schedule=schedule)


def test_level_weights_validation():
    for bad in ([], [1.0, -0.5]):
        with pytest.raises(ValueError, match='level_weights'):
            PhotometricLoss(level_weights=bad)
    assert SmoothnessLoss().weights_for(3) == [0.0, 0.0, 1.0]  # 'finest'
    assert SmoothnessLoss(level_weights='all').weights_for(3) == [1.0] * 3
    assert SmoothnessLoss(level_weights=None).weights_for(2) == [1.0] * 2
    with pytest.raises(ValueError, match='level_weights'):
        SmoothnessLoss(level_weights='coarsest')
    loss = SmoothnessLoss(level_weights=[0, 0.5])
    assert loss.weights_for(2) == [0.0, 0.5]
    with pytest.raises(ValueError, match='2 entries.*4 levels'):
        loss.weights_for(4)


# ------------------------------------------- the flow decoder's loss_by_feat
def _flow_decoder(**losses):
    from efc_mm.testing import TINY_FLOW

    from efc_mm.models.flow_decoders import EFCFlowDecoder
    return EFCFlowDecoder(in_channels=(8, 16, 32, 32), **TINY_FLOW,
                          losses=losses)


def _ctx(out, imgs, shared=None, labelled=None):
    """A PairContext over given decoder outputs (leaf tensors, so a test
    can ask autograd where a term's gradient goes) and images in [0, 1];
    returns ``(ctx, leaves)``."""
    from efc_mm.structures import PairContext
    leaves = dict(flows=[f.clone().requires_grad_() for f in out['flows']],
                  occs=[o.clone().requires_grad_()
                        for o in out['occlusions']])
    flow_out = dict(flows=leaves['flows'], occlusions=leaves['occs'],
                    strides=out['strides'])
    n = imgs.shape[0]
    ctx = PairContext(imgs, imgs, shared or [], labelled or [False] * n,
                      seg_fn=lambda sh: (None, None),
                      flow_fn=lambda: flow_out)
    return ctx, leaves


def _swap(x):
    return torch.cat([x[1:], x[:1]])  # one pair: [i, i+t] -> [i+t, i]


def _decoder_out(h=32, w=24, nan_levels=()):
    """What EFCFlowDecoder.forward returns for one pair (fw, bw) on an
    ``h x w`` input: strides 32, 16, 8, 4 (coarse to fine), flows in input
    pixels; levels in ``nan_levels`` are all NaN."""
    g = torch.Generator().manual_seed(7)
    flows, occs = [], []
    for lvl, s in enumerate((32, 16, 8, 4)):
        size = (-(-h // s), -(-w // s))
        flow = (torch.rand(2, 2, *size, generator=g, dtype=D) - 0.5) * 6
        occ = torch.rand(2, 1, *size, generator=g, dtype=D) * 0.6 + 0.1
        if lvl in nan_levels:
            flow, occ = flow * float('nan'), occ * float('nan')
        flows.append(flow)
        occs.append(occ)
    return dict(flows=flows, occlusions=occs, strides=[32, 16, 8, 4])


def _pair_imgs(h=32, w=24):
    g = torch.Generator().manual_seed(8)
    return torch.rand(2, 3, h, w, generator=g, dtype=D)


@pytest.mark.parametrize('finest', [1.0, 0.5])
def test_loss_by_feat_level_weights_finest_only(finest):
    """level_weights [0, 0, 0, w]: only the finest level (stride 4) counts,
    NaN at the three coarser levels cannot reach the result, which equals
    w times the loss modules called by hand on that level's tensors (flow in
    its own pixels, images 4x4-average-pooled, O_hat from the opposite
    flow)."""
    lw = [0, 0, 0, finest]
    dec = _flow_decoder(
        photometric=dict(type='PhotometricLoss', seg_error=False,
                         resolution='level', level_weights=lw),
        smoothness=dict(type='SmoothnessLoss', resolution='level',
                        level_weights=lw),
        occlusion=dict(type='OcclusionLoss', level_weights=lw))
    out = _decoder_out(nan_levels=(0, 1, 2))
    imgs = _pair_imgs()
    ctx, _ = _ctx(out, imgs)
    losses = dec.loss_by_feat(ctx)
    assert {lvl for _, lvl, _, _ in ctx.terms} == {3}
    flow = out['flows'][3] * 0.25  # input px -> px of the 8 x 6 grid
    occ = out['occlusions'][3]
    img = torch.nn.functional.avg_pool2d(imgs, 4)
    warped, valid = warp(_swap(img), flow)
    target = occlusion_from_range_map(_swap(flow), threshold=0.2)
    pm = PhotometricLoss(seg_error=False)
    sm, oc = SmoothnessLoss(), OcclusionLoss()
    expected = dict(loss_pm=0, loss_sm=0, loss_occ=0)
    for s in (slice(0, 1), slice(1, 2)):
        expected['loss_pm'] += pm.compute(img[s], warped[s], occ[s], None,
                                          valid[s])
        expected['loss_sm'] += sm.compute(flow[s], img[s])
        expected['loss_occ'] += oc.compute(occ[s], target[s])
    assert set(losses) == set(expected)
    for k, v in expected.items():
        assert torch.isfinite(losses[k])
        torch.testing.assert_close(losses[k], finest * v)


def test_loss_by_feat_input_resolution():
    """resolution='input': the level's flow (already in input pixels) is
    upsampled bilinearly to the input size and warps the full-size images;
    'level' gives another value."""
    lw = [0, 0, 1, 0]  # the 4 x 3 level

    def decoder(resolution):
        return _flow_decoder(
            photometric=dict(type='PhotometricLoss', seg_error=False,
                             resolution=resolution, level_weights=lw),
            smoothness=dict(type='SmoothnessLoss', resolution=resolution,
                            level_weights=lw),
            occlusion=dict(type='OcclusionLoss', level_weights=lw))

    out, imgs = _decoder_out(), _pair_imgs()
    got = decoder('input').loss_by_feat(_ctx(out, imgs)[0])
    level = decoder('level').loss_by_feat(_ctx(out, imgs)[0])

    def up(x):
        return torch.nn.functional.interpolate(
            x, size=(32, 24), mode='bilinear', align_corners=False)

    flow, occ = up(out['flows'][2]), up(out['occlusions'][2])
    warped, valid = warp(_swap(imgs), flow)
    pm, sm = PhotometricLoss(seg_error=False), SmoothnessLoss()
    exp_pm = exp_sm = 0
    for s in (slice(0, 1), slice(1, 2)):
        exp_pm = exp_pm + pm.compute(imgs[s], warped[s], occ[s], None,
                                     valid[s])
        exp_sm = exp_sm + sm.compute(flow[s], imgs[s])
    torch.testing.assert_close(got['loss_pm'], exp_pm)
    torch.testing.assert_close(got['loss_sm'], exp_sm)
    for key in ('loss_pm', 'loss_sm'):
        assert abs(got[key] - level[key]) > 1e-3 * abs(level[key])
    torch.testing.assert_close(got['loss_occ'], level['loss_occ'])


def test_loss_by_feat_scheduled_weight_zero_is_absent():
    dec = _flow_decoder(
        photometric=dict(type='PhotometricLoss', seg_error=False),
        smoothness=dict(type='SmoothnessLoss',
                        weight_schedule=dict(begin=5, end=10)),
        occlusion=dict(type='OcclusionLoss'))
    out, imgs = _decoder_out(64, 64), _pair_imgs(64, 64)  # every level
    ctx, _ = _ctx(out, imgs)
    losses = dec.loss_by_feat(ctx)
    assert set(losses) == {'loss_pm', 'loss_occ'}
    assert all(name != 'loss_sm' for name, *_ in ctx.terms)
    sm = dec.losses[1]
    sm.set_iteration(7)  # weight 0.5 * 2 / 5
    ramp = dec.loss_by_feat(_ctx(out, imgs)[0])['loss_sm']
    sm.set_iteration(10)
    full = dec.loss_by_feat(_ctx(out, imgs)[0])['loss_sm']
    torch.testing.assert_close(ramp, 0.4 * full)
    torch.testing.assert_close(dec.loss_by_feat(_ctx(out, imgs)[0])[
        'loss_pm'], losses['loss_pm'])


def test_occlusion_bce_runs_in_float32_outside_autocast(monkeypatch):
    """CUDA autocast refuses ``F.binary_cross_entropy`` ("unsafe to
    autocast"; seen on an H200 with AmpOptimWrapper): the BCE of L_occ must
    run in float32 with autocast off. CPU autocast does not refuse it, so the
    call itself is inspected; the value is checked against the eq. 4 formula
    in float64 (bfloat16 inputs, so a bfloat16 BCE would miss the tolerance
    only by luck; the recorded dtype is the real check)."""
    import efc_mm.models.losses.occlusion_loss as mod
    seen = []
    real = mod.F.binary_cross_entropy

    def spy(inp, tgt, *args, **kwargs):
        seen.append((inp.dtype, tgt.dtype,
                     torch.is_autocast_enabled(inp.device.type)))
        return real(inp, tgt, *args, **kwargs)

    monkeypatch.setattr(mod.F, 'binary_cross_entropy', spy)
    g = torch.Generator().manual_seed(0)
    occ = torch.rand(2, 1, 5, 6, generator=g).clamp(0.05, 0.95)
    tgt = (torch.rand(2, 1, 5, 6, generator=g) > 0.5).float()
    loss = OcclusionLoss(alpha=0.2, loss_weight=1.0)
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        value = loss.compute(occ.to(torch.bfloat16), tgt)
    assert seen == [(torch.float32, torch.float32, False)]
    o = occ.to(torch.bfloat16).double()
    t = tgt.double()
    ref = (-(t * o.log() + (1 - t) * (1 - o).log()) - 0.2 * (-o).exp()).mean()
    assert value.dtype == torch.float32
    assert torch.isclose(value.double(), ref, rtol=1e-5, atol=1e-6)
