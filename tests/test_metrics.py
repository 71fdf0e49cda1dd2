"""Tests of efc_mm.evaluation: EFCFlowMetric, TemporalConsistencyMetric,
PairIoUMetric and the functional helpers.

Every expected value is computed here, independently of efc_mm (numpy, or
hand-computed constants); real files come from ``samples/`` of the real-data
folder (``../shared/data`` or ``$EFC_SHARED_DATA``, see tests/conftest.py)
and the tests that need them skip when it is absent.
"""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import efc_mm  # noqa: F401  (compat patches + registration)
from efc_mm.evaluation import (EFCFlowMetric, PairIoUMetric,
                               TemporalConsistencyMetric)
from efc_mm.evaluation import functional as F
from efc_mm.structures import PairDataSample
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from conftest import SAMPLES as _SAMPLES, missing_data  # noqa: E402

SAMPLES = Path(_SAMPLES)
KITTI_FLOW = SAMPLES / 'kitti15_000000' / 'flow_gt_000000_10.png'
MB_FLOW = SAMPLES / 'middlebury_rubberwhale' / 'flow10.flo'
needs_kitti = pytest.mark.skipif(not KITTI_FLOW.is_file(),
                                 reason=missing_data(KITTI_FLOW))
needs_mb = pytest.mark.skipif(not MB_FLOW.is_file(),
                              reason=missing_data(MB_FLOW))


# ---------------------------------------------------------------- helpers
def _t(x):
    return torch.as_tensor(np.ascontiguousarray(x))


def _frame(gt=None, pred=None, shape=None, path=None):
    f = SegDataSample(metainfo=dict(img_path=path) if path else {})
    if gt is None:
        gt = np.full(shape, 255, np.int64)
    f.gt_sem_seg = PixelData(data=_t(gt).long()[None])
    if pred is not None:
        f.pred_sem_seg = PixelData(data=_t(pred).long()[None])
    return f


def make_pair(pred_flow=None, gt_flow=None, valid=None, occ=None,
              pred_occ=None, pred1=None, pred2=None, gt1=None, gt2=None,
              shape=None, paths=(None, None), bw=None):
    """PairDataSample from numpy arrays; flows (H, W, 2), maps (H, W)."""
    if shape is None:
        for a in (gt_flow, pred_flow, pred1, gt1):
            if a is not None:
                shape = a.shape[:2]
                break
    s = PairDataSample(metainfo=dict(frame_gap=1, sequence='x'))
    s.frame1 = _frame(gt1, pred1, shape, paths[0])
    s.frame2 = _frame(gt2, pred2, shape, paths[1])

    def flow(a):
        return PixelData(data=_t(a.transpose(2, 0, 1)).float())

    def mask(a):
        return PixelData(data=_t(a).float()[None])

    if pred_flow is not None:
        s.pred_flow_fw = flow(pred_flow)
    if gt_flow is not None:
        s.gt_flow_fw = flow(gt_flow)
    if valid is not None:
        s.gt_valid_fw = mask(valid)
    if occ is not None:
        s.gt_occ_fw = mask(occ)
    if pred_occ is not None:
        s.pred_occ_fw = mask(pred_occ)
    if bw is not None:
        s.pred_flow_bw = flow(bw['pred'])
        s.gt_flow_bw = flow(bw['gt'])
    return s


def run_metric(metric, samples, meta=None, batch=1):
    """Through mmengine's Evaluator: samples become dicts (to_dict())."""
    ev = Evaluator(metric)
    ev.dataset_meta = meta or dict(classes=[f'c{i}' for i in range(4)])
    for i in range(0, len(samples), batch):
        ev.process(data_samples=samples[i:i + batch], data_batch=None)
    return ev.evaluate(len(samples))


def read_kitti_direct(path):
    """KITTI flow PNG decoded here (not with efc_mm.fileio)."""
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED).astype(np.float64)
    u = (raw[:, :, 2] - 32768.0) / 64.0  # OpenCV: B, G, R = valid, v, u
    v = (raw[:, :, 1] - 32768.0) / 64.0
    valid = raw[:, :, 0] > 0
    return np.stack([u, v], -1), valid


def read_flo_direct(path):
    with open(path, 'rb') as f:
        assert np.frombuffer(f.read(4), np.float32)[0] == 202021.25
        w, h = np.frombuffer(f.read(8), np.int32)
        return np.frombuffer(f.read(), np.float32).reshape(h, w, 2).astype(
            np.float64)


def synthetic_gt(h=40, w=50, seed=0):
    """Flow with magnitudes spread over 0..~200 px."""
    rng = np.random.default_rng(seed)
    mag = rng.uniform(0, 200, (h, w))
    ang = rng.uniform(0, 2 * np.pi, (h, w))
    return np.stack([mag * np.cos(ang), mag * np.sin(ang)], -1)


# ------------------------------------------------------- EFCFlowMetric
def test_flow_perfect_and_constant_offset():
    gt = synthetic_gt()
    res = run_metric(EFCFlowMetric(), [make_pair(gt.copy(), gt)])
    for k in ('EPE_all', 'EPE_all_px', 'Fl_all', 'Fl_all_img'):
        assert res[k] == pytest.approx(0.0, abs=1e-4), k
    assert 'EPE_noc' not in res  # no gt_occ_fw: no noc numbers

    pred = gt + np.array([3.0, 4.0])
    res = run_metric(EFCFlowMetric(), [make_pair(pred, gt)])
    expected_fl = 100.0 * np.mean(5.0 > 0.05 * np.linalg.norm(gt, axis=-1))
    assert 5 < expected_fl < 95  # the case discriminates
    assert res['EPE_all'] == pytest.approx(5.0, abs=1e-4)
    assert res['EPE_all_px'] == pytest.approx(5.0, abs=1e-4)
    assert res['Fl_all'] == pytest.approx(expected_fl, abs=1e-6)
    assert res['Fl_all_img'] == pytest.approx(expected_fl, abs=1e-6)


def test_flow_offset_below_threshold_is_no_outlier():
    gt = synthetic_gt()
    res = run_metric(EFCFlowMetric(),
                     [make_pair(gt + np.array([1.5, 2.0]), gt)])  # EPE 2.5
    assert res["EPE_all"] == pytest.approx(2.5, abs=1e-4)
    assert res['Fl_all'] == pytest.approx(0.0, abs=1e-4)


def test_flow_noc_and_per_image_vs_pooled():
    """Two images of different valid counts: per-image mean differs from the
    pixel-pooled one, both checked against numpy."""
    gt = synthetic_gt(30, 40, seed=1)
    rng = np.random.default_rng(2)
    valid_a = rng.random((30, 40)) < 0.2
    occ_a = np.zeros((30, 40))
    occ_a[:, :10] = 1
    pred_a = gt + np.array([10.0, 0.0])  # EPE 10 everywhere
    pred_b = gt + np.array([0.0, 1.0])   # EPE 1 everywhere, dense
    occ_b = np.zeros((30, 40))
    res = run_metric(EFCFlowMetric(), [
        make_pair(pred_a, gt, valid_a, occ_a),
        make_pair(pred_b, gt, None, occ_b)
    ])
    na, nb = valid_a.sum(), 30 * 40
    assert res['EPE_all'] == pytest.approx((10 + 1) / 2, abs=1e-4)
    assert res['EPE_all_px'] == pytest.approx((10 * na + nb) / (na + nb),
                                              abs=1e-4)
    mag = np.linalg.norm(gt, axis=-1)
    out_a = (10 > 3) & (10 > 0.05 * mag)
    fl_a = out_a[valid_a].mean()
    assert res['Fl_all'] == pytest.approx(
        100 * out_a[valid_a].sum() / (na + nb), abs=1e-6)
    assert res['Fl_all_img'] == pytest.approx(100 * fl_a / 2, abs=1e-6)
    noc_a = valid_a & (occ_a == 0)
    assert res['EPE_noc'] == pytest.approx(5.5, abs=1e-4)
    assert res['EPE_noc_px'] == pytest.approx(
        (10 * noc_a.sum() + nb) / (noc_a.sum() + nb), abs=1e-4)
    assert res['Fl_noc'] == pytest.approx(
        100 * out_a[noc_a].sum() / (noc_a.sum() + nb), abs=1e-6)


@needs_kitti
def test_flow_kitti_zero_prediction():
    gt, valid = read_kitti_direct(KITTI_FLOW)
    assert 0.1 < valid.mean() < 0.3  # sparse GT, as documented
    mag = np.sqrt(gt[..., 0]**2 + gt[..., 1]**2)
    expected_epe = mag[valid].mean()
    expected_fl = 100.0 * (mag[valid] > 3.0).mean()  # zero flow: EPE = |gt|
    # a noc region constructed for the test: right third occluded
    occ = np.zeros(valid.shape)
    occ[:, 2 * valid.shape[1] // 3:] = 1
    noc = valid & (occ == 0)
    sample = make_pair(np.zeros_like(gt), gt, valid.astype(np.float32), occ)
    res = run_metric(EFCFlowMetric(), [sample])
    assert res['EPE_all'] == pytest.approx(expected_epe, rel=1e-5)
    assert res['Fl_all'] == pytest.approx(expected_fl, rel=1e-6)
    assert res['EPE_noc'] == pytest.approx(mag[noc].mean(), rel=1e-5)
    assert res['Fl_noc'] == pytest.approx(100 * (mag[noc] > 3).mean(),
                                          rel=1e-6)
    # ignoring the valid mask would change the answer (zeros count as EPE 0)
    assert expected_epe != pytest.approx(mag.mean(), rel=1e-2)


@needs_mb
def test_flow_middlebury_dense_perturbed():
    gt = read_flo_direct(MB_FLOW)
    known = np.all(np.abs(gt) < 1e9, axis=-1)
    assert 0 < (~known).sum() < known.size  # the file has unknown pixels
    rng = np.random.default_rng(3)
    pred = np.where(known[..., None], gt, 0) + rng.normal(0, 2.0, gt.shape)
    epe = np.sqrt(((pred - gt)**2).sum(-1))
    mag = np.sqrt((gt**2).sum(-1))
    res = run_metric(EFCFlowMetric(), [make_pair(pred, gt)])  # no valid
    assert res['EPE_all'] == pytest.approx(epe[known].mean(), rel=1e-5)
    out = (epe > 3) & (epe > 0.05 * mag)
    assert res['Fl_all'] == pytest.approx(100 * out[known].mean(), rel=1e-5)


@needs_kitti
def test_flow_agrees_with_mmflow():
    from mmflow.evaluation.metrics import EndPointError, FlowOutliers
    gt, valid = read_kitti_direct(KITTI_FLOW)
    rng = np.random.default_rng(4)
    samples = [
        make_pair(np.zeros_like(gt), gt, valid.astype(np.float32)),
        make_pair(gt + rng.normal(0, 4, gt.shape), gt,
                  valid.astype(np.float32)),
        make_pair(gt * 0.8, gt, None),  # dense: every pixel counts
    ]
    dicts = [s.to_dict() for s in samples]  # field names are mmflow's

    def mmflow_eval(metric, batch):
        for i in range(0, len(dicts), batch):
            metric.process(None, dicts[i:i + batch])
        return metric.compute_metrics(metric.results)

    ours = run_metric(EFCFlowMetric(), samples)
    epe1 = mmflow_eval(EndPointError(), 1)['EPE']
    fl1 = mmflow_eval(FlowOutliers(), 1)['Fl']
    epe_all = mmflow_eval(EndPointError(), len(dicts))['EPE']
    fl_all = mmflow_eval(FlowOutliers(), len(dicts))['Fl']
    assert ours['EPE_all'] == pytest.approx(epe1, rel=1e-5)
    assert ours['Fl_all_img'] == pytest.approx(fl1, rel=1e-5)
    assert ours['EPE_all_px'] == pytest.approx(epe_all, rel=1e-5)
    assert ours['Fl_all'] == pytest.approx(fl_all, rel=1e-5)
    assert epe1 != pytest.approx(epe_all, rel=1e-3)  # the two do differ


def test_flow_direction_both_and_occlusion_f1():
    gt = synthetic_gt(20, 30, seed=5)
    occ = np.zeros((20, 30))
    occ[5:15, 5:15] = 1
    pred_occ = np.zeros((20, 30))
    pred_occ[5:15, 10:20] = 0.9  # half of the true block found
    s = make_pair(gt + np.array([3.0, 4.0]), gt, None, occ, pred_occ,
                  bw=dict(pred=-gt, gt=-gt))
    res = run_metric(EFCFlowMetric(direction='both'), [s])
    assert res['EPE_all'] == pytest.approx(5.0, abs=1e-4)
    assert res['EPE_all_bw'] == pytest.approx(0.0, abs=1e-4)
    tp, fp, fn = 50, 50, 50
    assert res['Occ_F1'] == pytest.approx(100 * 2 * tp / (2 * tp + fp + fn))
    assert res['Occ_acc'] == pytest.approx(100 * (600 - 100) / 600)
    res_bw = run_metric(EFCFlowMetric(direction='bw'), [s])
    assert set(res_bw) == {'EPE_all_bw', 'Fl_all_bw', 'EPE_all_px_bw',
                           'Fl_all_img_bw'}


def test_flow_errors_name_the_field():
    gt = synthetic_gt(8, 8)
    with pytest.raises(KeyError, match="'pred_flow_fw'.*pair predict"):
        run_metric(EFCFlowMetric(), [make_pair(None, gt)])
    with pytest.raises(KeyError, match="'gt_flow_fw'"):
        run_metric(EFCFlowMetric(), [make_pair(gt, None)])
    with pytest.raises(KeyError, match="'pred_flow_bw'"):
        run_metric(EFCFlowMetric(direction='bw'), [make_pair(gt, gt)])
    s = make_pair(gt, gt)
    s.pred_flow_bw = s.pred_flow_fw
    with pytest.raises(KeyError, match="'gt_flow_bw'"):
        run_metric(EFCFlowMetric(direction='both'), [s])
    with pytest.raises(ValueError, match="'pred_flow_fw'.*'gt_flow_fw'"):
        run_metric(EFCFlowMetric(), [make_pair(synthetic_gt(8, 9), gt)])
    with pytest.raises(ValueError, match='direction'):
        EFCFlowMetric(direction='up')


# ------------------------------------------- TemporalConsistencyMetric
def _labels(h=12, w=16, seed=0, k=4):
    return np.random.default_rng(seed).integers(0, k, (h, w))


def _shift(lab, dx, dy, fill=3):
    """out(p + (dx, dy)) = lab(p): content of frame t moved by (dx, dy)."""
    h, w = lab.shape
    out = np.full_like(lab, fill)
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        lab[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def tc_numpy(pairs, k=4):
    """Independent TC: loops over pixels; pairs = (p1, p2, flow, mask)."""
    inter = np.zeros(k)
    union = np.zeros(k)
    for p1, p2, flow, mask in pairs:
        h, w = p1.shape
        for y in range(h):
            for x in range(w):
                tx = int(np.floor(x + flow[y, x, 0] + 0.5))
                ty = int(np.floor(y + flow[y, x, 1] + 0.5))
                if not (0 <= tx < w and 0 <= ty < h) or not mask[y, x]:
                    continue
                a, b = p1[y, x], p2[ty, tx]
                union[a] += 1
                if a == b:
                    inter[a] += 1
                else:
                    union[b] += 1
    present = union > 0
    return 100 * np.mean(inter[present] / union[present])


def test_tc_perfectly_consistent_video():
    p1 = _labels()
    flow = np.zeros(p1.shape + (2, ))
    flow[..., 0], flow[..., 1] = 2, 1
    p2 = _shift(p1, 2, 1)
    # frame 2 gets junk where nothing came from: out-of-frame for frame 1
    res = run_metric(TemporalConsistencyMetric(),
                     [make_pair(gt_flow=flow, pred1=p1, pred2=p2)])
    assert res == {'TC(flow=gt)': pytest.approx(100.0)}


def test_tc_known_wrong_block_hand_computed():
    p1 = np.zeros((8, 8), np.int64)
    p1[:, 4:] = 1
    p2 = p1.copy()
    p2[2:4, 0:2] = 1  # 4 pixels of class 0 flip to class 1
    zero = np.zeros((8, 8, 2))
    res = run_metric(TemporalConsistencyMetric(num_classes=2),
                     [make_pair(gt_flow=zero, pred1=p1, pred2=p2)])
    # class 0: I = 28, U = 32; class 1: I = 32, U = 36
    assert res['TC(flow=gt)'] == pytest.approx(100 * (28 / 32 + 32 / 36) / 2)
    # the wrong block occluded (gt) -> excluded -> perfectly consistent
    occ = np.zeros((8, 8))
    occ[2:4, 0:2] = 1
    s = make_pair(gt_flow=zero, occ=occ, pred1=p1, pred2=p2)
    res = run_metric(TemporalConsistencyMetric(num_classes=2), [s])
    assert res['TC(flow=gt)'] == pytest.approx(100.0)
    res = run_metric(
        TemporalConsistencyMetric(num_classes=2, exclude_occluded=False),
        [s])
    assert res['TC(flow=gt)'] == pytest.approx(100 * (28 / 32 + 32 / 36) / 2)


def test_tc_random_flow_matches_loop_and_accumulates_over_pairs():
    rng = np.random.default_rng(7)
    pairs, samples = [], []
    for i in range(3):
        p1, p2 = _labels(seed=10 + i), _labels(seed=20 + i)
        flow = rng.uniform(-5, 5, p1.shape + (2, ))
        valid = rng.random(p1.shape) < 0.7
        pairs.append((p1, p2, flow, valid))
        samples.append(
            make_pair(gt_flow=flow, valid=valid, pred1=p1, pred2=p2))
    res = run_metric(TemporalConsistencyMetric(), samples, batch=2)
    assert res['TC(flow=gt)'] == pytest.approx(tc_numpy(pairs), rel=1e-9)
    # pooled over pairs, not the mean of per-pair values
    per_pair = np.mean([tc_numpy([p]) for p in pairs])
    assert res['TC(flow=gt)'] != pytest.approx(per_pair, rel=1e-6)


def test_tc_flow_source_switch_and_errors():
    p1 = _labels(seed=1)
    p2 = _shift(p1, -3, 2)
    good = np.zeros(p1.shape + (2, ))
    good[..., 0], good[..., 1] = -3, 2
    bad = np.zeros_like(good)  # the model's (wrong) flow
    s = make_pair(pred_flow=bad, gt_flow=good, pred1=p1, pred2=p2)
    assert run_metric(TemporalConsistencyMetric(flow_source='gt'),
                      [s]) == {'TC(flow=gt)': pytest.approx(100.0)}
    res = run_metric(TemporalConsistencyMetric(flow_source='pred'), [s])
    ones = np.ones(p1.shape, bool)
    assert list(res) == ['TC(flow=EFC-pred)']
    assert res['TC(flow=EFC-pred)'] == pytest.approx(
        tc_numpy([(p1, p2, bad, ones)]))
    assert res['TC(flow=EFC-pred)'] < 50
    # auto: gt where present, pred elsewhere, reported separately
    s_nogt = make_pair(pred_flow=bad, pred1=p1, pred2=p2)
    res = run_metric(TemporalConsistencyMetric(), [s, s_nogt])
    assert res['TC(flow=gt)'] == pytest.approx(100.0)
    assert res['TC(flow=EFC-pred)'] == pytest.approx(
        tc_numpy([(p1, p2, bad, ones)]))
    with pytest.raises(KeyError, match="'gt_flow_fw'.*flow_source='gt'"):
        run_metric(TemporalConsistencyMetric(flow_source='gt'), [s_nogt])
    with pytest.raises(KeyError, match="'pred_flow_fw'"):
        run_metric(TemporalConsistencyMetric(flow_source='pred'),
                   [make_pair(gt_flow=good, pred1=p1, pred2=p2)])
    with pytest.raises(ValueError, match="'gt_flow_fw'"):
        run_metric(TemporalConsistencyMetric(), [
            make_pair(gt_flow=np.zeros((5, 5, 2)), pred1=p1, pred2=p2,
                      shape=p1.shape)
        ])


# --------------------------------------------------------- PairIoUMetric
def miou_numpy(pairs, k):
    inter, union = np.zeros(k), np.zeros(k)
    for pred, gt in pairs:
        m = gt != 255
        for c in range(k):
            inter[c] += ((pred == c) & (gt == c) & m).sum()
            union[c] += (((pred == c) | (gt == c)) & m).sum()
    present = union > 0
    return 100 * np.nanmean(inter[present] / union[present])


def test_pair_iou_labelled_frames_only_and_dedupe():
    k = 4
    g1, g2 = _labels(seed=30), _labels(seed=31)
    g2[:3] = 255
    q1, q2, q3 = _labels(seed=40), _labels(seed=41), _labels(seed=42)
    samples = [
        # frame2 unlabelled (all 255): skipped
        make_pair(pred1=q1, gt1=g1, pred2=q2, paths=('a.png', 'b.png')),
        # frame a.png again (another pair): counted once
        make_pair(pred1=q1, gt1=g1, pred2=q3, gt2=g2,
                  paths=('a.png', 'c.png')),
    ]
    res = run_metric(PairIoUMetric(), samples)
    expected = miou_numpy([(q1, g1), (q3, g2)], k)
    assert res['mIoU'] == pytest.approx(round(expected, 2), abs=1e-6)
    assert 10 < expected < 90
    res = run_metric(PairIoUMetric(dedupe=False), samples)
    assert res['mIoU'] == pytest.approx(
        round(miou_numpy([(q1, g1), (q1, g1), (q3, g2)], k), 2), abs=1e-6)
    with pytest.raises(KeyError, match="'pred_sem_seg'"):
        run_metric(PairIoUMetric(), [make_pair(gt1=g1, pred2=q2, pred1=None,
                                               gt2=g2)])


def test_one_evaluator_reports_all_metrics():
    """The tools/test.py situation: one Evaluator, three metrics, pair
    samples converted to dicts by mmengine."""
    p1 = _labels(seed=50)
    gt1 = _labels(seed=51)
    flow = np.zeros(p1.shape + (2, ))
    flow[..., 0] = 1
    s = make_pair(pred_flow=flow + np.array([3.0, 4.0]), gt_flow=flow,
                  pred1=p1, pred2=_shift(p1, 1, 0), gt1=gt1)
    with DefaultScope.overwrite_default_scope('mmseg'):  # as in configs
        ev = Evaluator([
            dict(type='PairIoUMetric'),
            dict(type='EFCFlowMetric'),
            dict(type='TemporalConsistencyMetric')
        ])
    ev.dataset_meta = dict(classes=['a', 'b', 'c', 'd'])
    ev.process(data_samples=[s], data_batch=None)
    res = ev.evaluate(1)
    assert res['EPE_all'] == pytest.approx(5.0, abs=1e-5)
    assert res['TC(flow=gt)'] == pytest.approx(100.0)
    assert res['mIoU'] == pytest.approx(round(miou_numpy([(p1, gt1)], 4), 2))
    assert {'aAcc', 'mAcc', 'Fl_all'} <= set(res)


# ------------------------------------------------------------ functional
def test_warp_labels_nearest_numpy_and_torch():
    rng = np.random.default_rng(9)
    lab = rng.integers(0, 5, (9, 11))
    flow = rng.uniform(-4, 4, (2, 9, 11))
    out, inside = F.warp_labels_nearest(lab, flow)
    assert isinstance(out, np.ndarray)
    for y in range(9):
        for x in range(11):
            tx = int(np.floor(x + flow[0, y, x] + 0.5))
            ty = int(np.floor(y + flow[1, y, x] + 0.5))
            ok = 0 <= tx < 11 and 0 <= ty < 9
            assert inside[y, x] == ok
            assert out[y, x] == (lab[ty, tx] if ok else 255)
    out_t, _ = F.warp_labels_nearest(torch.from_numpy(lab),
                                     torch.from_numpy(flow))
    assert isinstance(out_t, torch.Tensor)
    assert np.array_equal(out_t.numpy(), out)
    with pytest.raises(ValueError, match='flow'):
        F.warp_labels_nearest(lab, flow[:, :5])


def test_functional_epe_and_outliers():
    gt = synthetic_gt(6, 7).transpose(2, 0, 1)
    pred = gt + np.array([3.0, 4.0])[:, None, None]
    e = F.epe_map(pred, gt)
    assert e.shape == (6, 7) and np.allclose(e, 5.0)
    out = F.flow_outliers(e, gt)
    assert np.array_equal(out, 5.0 > 0.05 * np.linalg.norm(gt, axis=0))
    with pytest.raises(ValueError, match='shape'):
        F.epe_map(pred[:, :3], gt)


def test_objects_accepted_registries_and_unlabelled_pairs():
    from efc_mm.registry import FLOW_METRICS, METRICS
    assert METRICS.get('EFCFlowMetric') is EFCFlowMetric
    assert FLOW_METRICS.get('EFCFlowMetric') is EFCFlowMetric
    assert METRICS.get('TemporalConsistencyMetric') is \
        TemporalConsistencyMetric
    assert METRICS.get('PairIoUMetric') is PairIoUMetric
    # PairDataSample objects straight into process() (demo / bench use)
    gt = synthetic_gt(10, 12)
    m = EFCFlowMetric()
    m.process(None, [make_pair(gt + np.array([0.0, 2.0]), gt)])
    assert m.compute_metrics(m.results)['EPE_all'] == pytest.approx(2.0)
    # a pair test set without any labelled frame: no mIoU, no crash
    p = _labels()
    assert run_metric(PairIoUMetric(),
                      [make_pair(pred1=p, pred2=p, shape=p.shape)]) == {}
