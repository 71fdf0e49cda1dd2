"""Tests of the EFC losses (efc_mm.models.losses) on hand-computable cases.

Run: ``OMP_NUM_THREADS=1 PYTHONPATH=. python -m pytest tests/test_losses.py``.
"""
import math

import pytest
import torch

import efc_mm  # noqa: F401
from efc_mm.models.losses import (FeatureConsistencyLoss, OcclusionLoss,
                                  PhotometricLoss, SmoothnessLoss,
                                  seg_occlusion_error)
from efc_mm.ops import warp
from efc_mm.registry import MODELS

D = torch.float64


def const(n, c, h, w, value):
    return torch.full((n, c, h, w), float(value), dtype=D)


def test_registered_and_names():
    expected = dict(PhotometricLoss=('loss_pm', 1.0),
                    SmoothnessLoss=('loss_sm', 0.5),
                    FeatureConsistencyLoss=('loss_cons', 10.0),
                    OcclusionLoss=('loss_occ', 0.4))
    for name, (loss_name, weight) in expected.items():
        loss = MODELS.build(dict(type=name))
        assert loss.loss_name == loss_name and loss.loss_weight == weight
        assert loss.__doc__ and 'eq.' in loss.__doc__
        with pytest.raises(ValueError):
            MODELS.build(dict(type=name, loss_name='pm'))
    assert MODELS.build(dict(type='OcclusionLoss', alpha=0.3)).alpha == 0.3


# ---------------------------------------------------------- photometric
def ssim_const(a, b, c1=0.01**2):
    """SSIM of two constant images: variances and covariance are 0."""
    return (2 * a * b + c1) / (a * a + b * b + c1)


def test_photometric_constant_images_by_hand():
    a, b, beta = 0.3, 0.7, 0.85
    g = beta * (1 - ssim_const(a, b)) / 2 + (1 - beta) * abs(a - b)
    img, warped = const(2, 3, 5, 6, a), const(2, 3, 5, 6, b)
    loss = PhotometricLoss()
    torch.testing.assert_close(loss(img, warped), torch.tensor(g, dtype=D))
    # beta = 0: pure L1, loss_weight scales
    loss = PhotometricLoss(beta=0.0, loss_weight=2.0)
    torch.testing.assert_close(loss(img, warped),
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
    out = PhotometricLoss()(img, warped, occ_est, occ_err, valid)
    torch.testing.assert_close(out, expected)
    # O_est keeps its gradient: d loss / d O_est = -G / n_valid
    occ_est.requires_grad_()
    (grad, ) = torch.autograd.grad(
        PhotometricLoss()(img, warped, occ_est, occ_err, valid), occ_est)
    ref = -g / 12 * valid
    torch.testing.assert_close(grad, ref)
    # O_error is a constant weight (no gradient path)
    occ_err.requires_grad_()
    out = PhotometricLoss()(img, warped, occ_est, occ_err)
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
        return loss(img, warped, o, None, valid)
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
    torch.testing.assert_close(SmoothnessLoss(loss_weight=1.0)(flow, flat),
                               torch.tensor(a / 2, dtype=D))
    # vertical image edge of height 0.1 between columns 2 and 3
    img = flat.clone()
    img[..., 3:] += 0.1
    lam = 10.0
    weights = torch.ones(w - 1, dtype=D)
    weights[2] = math.exp(-lam * 0.1)
    expected = 0.5 * (a * weights).mean()
    out = SmoothnessLoss(edge_constant=lam)(flow, img)
    torch.testing.assert_close(out, 0.5 * expected)  # loss_weight 0.5
    # |grad F|_1 sums u and v: the same ramp in v doubles the x term
    flow2 = torch.cat([a * xs, a * xs], 1)
    torch.testing.assert_close(SmoothnessLoss(loss_weight=1.0)(flow2, flat),
                               torch.tensor(a, dtype=D))


def test_smoothness_gradcheck_and_errors():
    torch.manual_seed(1)
    flow = torch.randn(1, 2, 4, 5, dtype=D, requires_grad=True)
    img = torch.rand(1, 3, 4, 5, dtype=D)
    assert torch.autograd.gradcheck(lambda f: SmoothnessLoss()(f, img),
                                    (flow, ))
    with pytest.raises(ValueError):
        SmoothnessLoss()(flow, img[..., :4])
    with pytest.raises(ValueError):
        SmoothnessLoss()(flow[:, :1], img)


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
    loss = FeatureConsistencyLoss()
    torch.testing.assert_close(loss(feat, warped, occ, valid),
                               torch.tensor(10.0, dtype=D))
    torch.testing.assert_close(loss(feat, warped),
                               torch.tensor(20.0, dtype=D))
    occ.requires_grad_()
    feat.requires_grad_()
    out = loss(feat, warped, occ, valid)
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
        return FeatureConsistencyLoss()(a, warped, occ, valid)
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
    out = OcclusionLoss()(o, t)
    torch.testing.assert_close(out, torch.tensor(0.4 * sum(per) / 4,
                                                 dtype=D))
    valid = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]], dtype=D)
    torch.testing.assert_close(
        OcclusionLoss(loss_weight=1.0)(o, t, valid),
        torch.tensor((per[0] + per[2]) / 2, dtype=D))
    # finite at the ends of [0, 1]
    ends = torch.tensor([[[[0.0, 1.0]]]], dtype=D)
    assert torch.isfinite(OcclusionLoss()(ends, 1 - ends))


def test_occlusion_gradcheck_and_errors():
    torch.manual_seed(3)
    o = (torch.rand(1, 1, 3, 4, dtype=D) * 0.8 + 0.1).requires_grad_()
    t = (torch.rand(1, 1, 3, 4, dtype=D) > 0.5).to(D)
    assert torch.autograd.gradcheck(lambda x: OcclusionLoss()(x, t), (o, ))
    with pytest.raises(ValueError):
        OcclusionLoss()(o, t[..., :3])
    with pytest.raises(ValueError):
        OcclusionLoss()(o.expand(1, 2, 3, 4), t.expand(1, 2, 3, 4))
    with pytest.raises(ValueError):
        PhotometricLoss()(const(1, 3, 4, 4, 0), const(1, 3, 4, 4, 0),
                          torch.zeros(1, 1, 4, 5, dtype=D))
    with pytest.raises(ValueError):
        FeatureConsistencyLoss()(const(1, 3, 4, 4, 0), const(1, 2, 4, 4, 0))


def test_no_valid_pixel_gives_zero_not_nan():
    img = const(1, 3, 4, 4, 0.2)
    out = PhotometricLoss()(img, img + 0.1, valid=torch.zeros(1, 1, 4, 4,
                                                              dtype=D))
    assert out == 0 and not torch.isnan(out)
