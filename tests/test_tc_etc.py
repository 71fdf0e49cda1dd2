"""TemporalConsistencyMetric(mode='etc') against an independent numpy
re-implementation of ETC's evaluation script (Liu et al., ECCV 2020,
``tool/eval_tc.py``: FlowNet2 ``Resample2d`` of the next prediction, a
``uint8`` cast, semseg's ``intersectionAndUnion`` with ``np.histogram``,
``mean(I / (U + 1e-10))`` over all classes).

The reference below is written pixel by pixel with numpy scalars, as the
CUDA kernel does per thread; it shares no code with efc_mm.
"""
import numpy as np
import pytest
import torch

import efc_mm  # noqa: F401
from efc_mm.evaluation import TemporalConsistencyMetric
from efc_mm.structures import PairDataSample
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample


# ------------------------------------------------------ the reference
def resample2d_kernel(img, flow):
    """FlowNet2 Resample2d forward (kernel_size 1), one pixel at a time."""
    h, w = img.shape
    out = np.zeros((h, w), np.float32)
    for y in range(h):
        for x in range(w):
            xf = np.float32(x) + np.float32(flow[y, x, 0])
            yf = np.float32(y) + np.float32(flow[y, x, 1])
            alpha = np.float32(xf - np.floor(xf))
            beta = np.float32(yf - np.floor(yf))
            xl = max(min(int(np.floor(xf)), w - 1), 0)
            xr = max(min(int(np.floor(xf)) + 1, w - 1), 0)
            yt = max(min(int(np.floor(yf)), h - 1), 0)
            yb = max(min(int(np.floor(yf)) + 1, h - 1), 0)
            a, b = float(alpha), float(beta)
            val = np.float32(0.0)
            for wt, yy, xx in (((1. - a) * (1. - b), yt, xl),
                               (a * (1. - b), yt, xr),
                               ((1. - a) * b, yb, xl),
                               (a * b, yb, xr)):
                val = np.float32(float(val) + wt * float(img[yy, xx]))
            out[y, x] = val
    return out


def intersection_and_union(output, target, k, ignore=255):
    """semseg's util.intersectionAndUnion as the ETC script calls it."""
    output = output.reshape(-1).copy()
    target = target.reshape(-1).copy()
    output[target == ignore] = ignore
    inter = output[output == target]
    bins = np.arange(k + 1)
    a_i = np.histogram(inter, bins=bins)[0]
    a_o = np.histogram(output, bins=bins)[0]
    a_t = np.histogram(target, bins=bins)[0]
    return a_i, a_o + a_t - a_i


def etc_script(pairs, k):
    """TC in % over ``pairs`` of (pred_t, pred_t+1, flow_t->t+1 (H, W, 2))."""
    inter_sum, union_sum = np.zeros(k), np.zeros(k)
    for pred, pred_next, flow in pairs:
        warped = resample2d_kernel(pred_next.astype(np.float32), flow)
        i, u = intersection_and_union(pred.astype(np.uint8),
                                      warped.astype(np.uint8), k)
        inter_sum += i
        union_sum += u
    return 100 * np.mean(inter_sum / (union_sum + 1e-10))


# ------------------------------------------------------------ helpers
def make_pair(pred1, pred2, flow, key='gt_flow_fw', occ=None):
    s = PairDataSample(metainfo=dict(frame_gap=1))
    s.frame1, s.frame2 = SegDataSample(), SegDataSample()
    s.frame1.pred_sem_seg = PixelData(data=torch.from_numpy(pred1)[None])
    s.frame2.pred_sem_seg = PixelData(data=torch.from_numpy(pred2)[None])
    setattr(s, key, PixelData(data=torch.from_numpy(
        flow.transpose(2, 0, 1).astype(np.float32))))
    if occ is not None:
        s.gt_occ_fw = PixelData(data=torch.from_numpy(occ)[None].float())
    return s


def run(metric, samples, k):
    ev = Evaluator(metric)
    ev.dataset_meta = dict(classes=[f'c{i}' for i in range(k)])
    for s in samples:
        ev.process(data_samples=[s], data_batch=None)
    return ev.evaluate(len(samples))


def blocky_labels(rng, h, w, k):
    """Piecewise-constant labels (blocks of 4x4) in [0, k)."""
    small = rng.integers(0, k, (h // 4 + 1, w // 4 + 1))
    return np.kron(small, np.ones((4, 4), np.int64))[:h, :w]


def fractional_pairs(seed=0, n=3, h=14, w=18, k=6, used=5):
    """Pairs with fractional flows (some pointing out of frame) and labels
    using ``used`` < ``k`` classes, so one class is absent."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(n):
        p1 = blocky_labels(rng, h, w, used)
        p2 = p1.copy()  # frame t+1: mostly the same, 30 % relabelled
        change = rng.random((h, w)) < 0.3
        p2[change] = rng.integers(0, used, int(change.sum()))
        flow = rng.uniform(-3.5, 3.5, (h, w, 2))
        flow[0, :, 1] = -2.3  # top row samples above the frame
        flow[:, -1, 0] = 4.7  # right column samples right of it
        pairs.append((p1, p2, flow))
    return pairs


# -------------------------------------------------------------- tests
def test_etc_mode_matches_reference_script_on_fractional_flows():
    k = 6
    pairs = fractional_pairs()
    expected = etc_script(pairs, k)
    res = run(TemporalConsistencyMetric(mode='etc'),
              [make_pair(*p) for p in pairs], k)
    assert list(res) == ['TC_etc(flow=gt)']
    assert res['TC_etc(flow=gt)'] == pytest.approx(expected, abs=1e-9)
    # class 5 never occurs: ETC divides by 6 classes, ours by 5
    ours = run(TemporalConsistencyMetric(), [make_pair(*p) for p in pairs],
               k)
    assert list(ours) == ['TC(flow=gt)']
    assert abs(ours['TC(flow=gt)'] - expected) > 0.5


def test_etc_mode_ignores_occlusion_and_clamps_out_of_frame():
    """The same pair with an occlusion map: ETC uses every pixel. A flow
    that points 3 px left of the frame samples the border column."""
    k = 3
    p1 = np.zeros((6, 8), np.int64)
    p2 = np.zeros((6, 8), np.int64)
    p2[:, 0] = 2  # border column of frame t+1 is class 2
    flow = np.zeros((6, 8, 2))
    flow[:, :2, 0] = -3.0  # columns 0, 1 sample x = -3, -2 -> column 0
    occ = np.zeros((6, 8))
    occ[:, :2] = 1
    s = make_pair(p1, p2, flow, occ=occ)
    res = run(TemporalConsistencyMetric(mode='etc'), [s], k)
    # class 0: I = 36, U = 48; class 2: I = 0, U = 12; class 1 absent: 0
    assert res['TC_etc(flow=gt)'] == pytest.approx(
        100 * (36 / 48 + 0 + 0) / 3, abs=1e-8)
    assert res['TC_etc(flow=gt)'] == pytest.approx(
        etc_script([(p1, p2, flow)], k), abs=1e-9)
    # ours: the two columns are out of frame (and occluded) -> left out
    assert run(TemporalConsistencyMetric(), [s], k) == {
        'TC(flow=gt)': pytest.approx(100.0)}


def test_etc_mode_truncates_and_counts_ignore_like_numpy_histogram():
    """Bilinear mixes with 255 (ignore) in the next prediction give values
    between the labels; the uint8 cast truncates them and np.histogram's
    closed last bin counts value K as class K - 1."""
    k = 4
    rng = np.random.default_rng(3)
    p1 = rng.integers(0, k, (10, 12))
    p2 = rng.integers(0, k, (10, 12))
    p2[2:5, 3:7] = 255
    p2[7, :] = k  # value K: counted in class K-1 by the script
    flow = rng.uniform(-1.5, 1.5, (10, 12, 2))
    res = run(TemporalConsistencyMetric(mode='etc'),
              [make_pair(p1, p2, flow)], k)
    assert res['TC_etc(flow=gt)'] == pytest.approx(
        etc_script([(p1, p2, flow)], k), abs=1e-9)


def test_etc_mode_pred_flow_name_and_errors():
    k = 6
    p1, p2, flow = fractional_pairs(n=1)[0]
    res = run(TemporalConsistencyMetric(mode='etc', flow_source='pred'),
              [make_pair(p1, p2, flow, key='pred_flow_fw')], k)
    assert list(res) == ['TC_etc(flow=EFC-pred)']
    assert res['TC_etc(flow=EFC-pred)'] == pytest.approx(
        etc_script([(p1, p2, flow)], k), abs=1e-9)
    with pytest.raises(ValueError, match='no occlusion mask'):
        TemporalConsistencyMetric(mode='etc', exclude_occluded=True)
    with pytest.raises(ValueError, match="mode must be one of"):
        TemporalConsistencyMetric(mode='ETC')
