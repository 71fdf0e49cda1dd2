"""Label propagation (efc_mm.apis.label_propagation, tools/propagate_labels.py)
with exactly known flow: a hand-built two-layer scene with integer motion
(exact labels, flow and occlusion written down here) and a rendered
synthetic-world pair (analytic ground-truth flow)."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from conftest import fresh_checkpoint, load_script, tiny_world
from efc_mm.apis.label_propagation import (PropagationStats,
                                           forward_backward_visible,
                                           propagate_clip, propagate_step,
                                           visible_mask, zero_pair_flow)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICK_CFG = osp.join(REPO, 'configs', 'quickstart',
                     'psp_efc_tiny_synthetic_cpu.py')
H, W = 40, 56
OBJ = 3  # object label; background labels 0..2


def background(cam):
    """Labels of a block texture seen from camera offset ``cam`` = (cx, cy):
    pixel p shows world point p + cam."""
    y, x = np.mgrid[0:H, 0:W]
    X, Y = x + cam[0], y + cam[1]
    return ((X // 5) + 2 * (Y // 7)) % 3


def scene(t, cams, objs):
    """Frame t: background, plus an 10x12 object at top-left objs[t]."""
    lab = background(cams[t])
    ox, oy = objs[t]
    lab[oy:oy + 10, ox:ox + 12] = OBJ
    return lab


def flow_and_occ(a, b, cams, objs):
    """Exact flow a -> b (H, W, 2) and occlusion of a's pixels in b."""
    la = scene(a, cams, objs)
    on_obj = la == OBJ
    flow = np.zeros((H, W, 2))
    flow[..., 0] = np.where(on_obj, objs[b][0] - objs[a][0],
                            cams[a][0] - cams[b][0])
    flow[..., 1] = np.where(on_obj, objs[b][1] - objs[a][1],
                            cams[a][1] - cams[b][1])
    y, x = np.mgrid[0:H, 0:W]
    tx, ty = x + flow[..., 0], y + flow[..., 1]
    inside = (tx >= 0) & (tx <= W - 1) & (ty >= 0) & (ty <= H - 1)
    lb = scene(b, cams, objs)
    hit = np.zeros((H, W), bool)
    hit[inside] = lb[ty[inside].astype(int), tx[inside].astype(int)] == OBJ
    occ = ~inside | (~on_obj & hit)  # background hidden by the object in b
    return flow, occ


CAMS = [(0, 0), (3, -2), (6, -4)]     # camera pans: background moves
OBJS = [(30, 12), (25, 13), (20, 14)]  # the object moves the other way


def gt_pair_flow(target, source):
    f, occ = flow_and_occ(target, source, CAMS, OBJS)
    fb, _ = flow_and_occ(source, target, CAMS, OBJS)
    return dict(flow=torch.from_numpy(f).permute(2, 0, 1).float(),
                flow_back=torch.from_numpy(fb).permute(2, 0, 1).float(),
                occ=torch.from_numpy(occ.astype(np.float32)))


def test_exact_flow_propagates_exactly_on_visible_pixels():
    src, tgt = scene(0, CAMS, OBJS), scene(1, CAMS, OBJS)
    f = gt_pair_flow(1, 0)
    visible = ~f['occ'].numpy().astype(bool)
    for vis in ('occ', 'fb', 'both'):
        out = propagate_step(src, f['flow'], visible_mask(f, vis)).numpy()
        kept = out != 255
        # the forward-backward check finds exactly the true visible pixels
        np.testing.assert_array_equal(kept, visible)
        np.testing.assert_array_equal(out[kept], tgt[kept])
    assert 0.7 < visible.mean() < 0.98  # pan + object: real occlusions
    # zero flow (labels copied) is clearly worse on the same pixels
    assert (src[visible] == tgt[visible]).mean() < 0.6
    zero = zero_pair_flow((H, W))(1, 0)
    out0 = propagate_step(src, zero['flow'], visible_mask(zero, 'fb'))
    np.testing.assert_array_equal(out0.numpy(), src)


def test_chain_and_direct_agree_with_exact_flow_and_stats():
    labels0 = scene(0, CAMS, OBJS)
    truth = {j: scene(j, CAMS, OBJS) for j in range(3)}
    res = {}
    for mode in ('chain', 'direct'):
        stats = PropagationStats()
        got = list(propagate_clip(labels0, 0, 3, 5, gt_pair_flow, mode=mode,
                                  visibility='occ'))
        assert [(j, d) for j, d, _ in got] == [(1, 1), (2, 2)]
        for j, d, out in got:
            stats.update(d, out, truth[j], labels0)
            kept = out.numpy() != 255
            np.testing.assert_array_equal(out.numpy()[kept], truth[j][kept])
        res[mode] = stats.summary()
        for d in (1, 2):
            r = res[mode][d]
            assert r['accuracy'] == 100.0
            out = dict((jj, o) for jj, _, o in got)[d].numpy()
            kept = out != 255
            assert r['kept'] == kept.sum() and r['valid'] == H * W
            assert r['zero_flow_accuracy_same'] == pytest.approx(
                100 * (labels0[kept] == truth[d][kept]).mean())
    # the chain loses at least the pixels direct loses (errors only drop px)
    assert res['chain'][2]['kept'] <= res['direct'][2]['kept']
    # backward direction from the middle frame
    got = list(propagate_clip(truth[1], 1, 3, 1, gt_pair_flow))
    assert [(j, d) for j, d, _ in got] == [(2, 1), (0, 1)]


def test_forward_backward_check_independent_numpy():
    """Smooth random flows: the check against a per-pixel numpy loop with
    its own bilinear sampling."""
    rng = np.random.default_rng(0)
    small = rng.normal(0, 3, (2, 5, 7)).astype(np.float32)
    fab = cv2.resize(small.transpose(1, 2, 0), (W, H))
    fba = -fab + rng.normal(0, 0.6, fab.shape).astype(np.float32)
    got = forward_backward_visible(fab, fba).numpy()
    exp = np.zeros((H, W), bool)
    for y in range(H):
        for x in range(W):
            tx, ty = x + fab[y, x, 0], y + fab[y, x, 1]
            if not (0 <= tx <= W - 1 and 0 <= ty <= H - 1):
                continue
            x0, y0 = int(np.floor(tx)), int(np.floor(ty))
            x1, y1 = min(x0 + 1, W - 1), min(y0 + 1, H - 1)
            ax, ay = tx - x0, ty - y0
            s = ((1 - ax) * (1 - ay) * fba[y0, x0] + ax * (1 - ay) *
                 fba[y0, x1] + (1 - ax) * ay * fba[y1, x0] +
                 ax * ay * fba[y1, x1])
            d = ((fab[y, x] + s)**2).sum()
            exp[y, x] = d < 0.01 * ((fab[y, x]**2).sum() +
                                    (s**2).sum()) + 0.5
    assert 0.2 < exp.mean() < 0.95
    assert (got != exp).sum() <= 2  # float32 ties at the bound


def test_rendered_world_pair_with_ground_truth_flow():
    try:
        from efc_synthetic import render_snippet
    except ImportError:
        from efc_mm.datasets.synthetic import render_snippet
    s = render_snippet(1, height=64, width=128, num_frames=3,
                       camera=dict(speed=2.0, yaw_rate=0.03))
    lab = s['labels'].astype(np.int64)
    f = dict(flow=torch.from_numpy(s['flow_bw'][2]).permute(2, 0, 1),
             flow_back=torch.from_numpy(s['flow_fw'][1]).permute(2, 0, 1),
             occ=torch.from_numpy(s['occ_bw'][2].astype(np.float32)))
    t = lab[2].astype(np.uint8)
    k = np.ones((3, 3), np.uint8)
    interior = cv2.erode(t, k) == cv2.dilate(t, k)  # away from boundaries
    for vis in ('occ', 'fb'):
        out = propagate_step(lab[1], f['flow'], visible_mask(f, vis)).numpy()
        kept = out != 255
        assert kept.mean() > 0.9
        acc = (out[kept] == lab[2][kept]).mean()
        m = kept & interior
        assert (out[m] == lab[2][m]).mean() > 0.995
        assert acc > 0.96
        # nearest-label rounding only errs at label boundaries; zero flow
        # is worse by several points on the same pixels
        assert (lab[1][kept] == lab[2][kept]).mean() < acc - 0.05


def _tool():
    return load_script('tools', 'propagate_labels.py')


def test_tool_zero_flow_report_and_errors(tmp_path):
    frames, gts = tmp_path / 'frames', tmp_path / 'gt'
    frames.mkdir()
    gts.mkdir()
    cams = [(2 * t, 0) for t in range(5)]
    objs = [(30 - 3 * t, 12) for t in range(5)]
    for t in range(5):
        lab = scene(t, cams, objs)
        cv2.imwrite(str(frames / f'c_{t:03d}.png'),
                    np.repeat((lab * 60)[..., None], 3, -1).astype(np.uint8))
        cv2.imwrite(str(gts / f'c_{t:03d}.png'), lab.astype(np.uint8))
    tool = _tool()
    out = tmp_path / 'out'
    summary = tool.main(['unused.py', 'unused.pth', str(frames),
                         str(gts / 'c_002.png'), str(out), '--radius', '2',
                         '--zero-flow', '--gt-dir', str(gts),
                         '--no-progress'])
    assert sorted(os.listdir(out)) == ['c_000.png', 'c_001.png',
                                       'c_003.png', 'c_004.png']
    l2 = scene(2, cams, objs)
    np.testing.assert_array_equal(
        cv2.imread(str(out / 'c_004.png'), cv2.IMREAD_UNCHANGED), l2)
    for d in (1, 2):
        exp = np.mean([(l2 == scene(2 + s * d, cams, objs)).mean()
                       for s in (1, -1)])
        assert summary[d]['accuracy'] == pytest.approx(100 * exp)
        assert summary[d]['coverage'] == 100.0
    with pytest.raises(FileExistsError, match='never overwrites'):
        tool.main(['u', 'u', str(frames), str(gts / 'c_002.png'), str(out),
                   '--zero-flow', '--no-progress'])
    (tmp_path / 'other.png').write_bytes(
        cv2.imencode('.png', l2.astype(np.uint8))[1].tobytes())
    with pytest.raises(ValueError, match='pass --frame'):
        tool.main(['u', 'u', str(frames), str(tmp_path / 'other.png'),
                   str(tmp_path / 'o2'), '--zero-flow'])


def test_tool_with_a_model_on_the_synthetic_world(tmp_path):
    root = tiny_world(tmp_path / 'world')
    cfg = QUICK_CFG
    ckpt = fresh_checkpoint(cfg, tmp_path / 'fresh.pth')
    frames = osp.join(root, 'leftImg8bit_sequence', 'val', 'synth0')
    labels = osp.join(root, 'gtFine_sequence', 'val', 'synth0')
    lab1 = osp.join(labels, 'synth0_000000_000001_gtFine_labelTrainIds.png')
    out = str(tmp_path / 'out')
    _tool().main([cfg, ckpt, frames, lab1, out, '--frame',
                  'synth0_000000_000001_leftImg8bit.png', '--radius', '2',
                  '--mode', 'direct', '--visibility', 'both',
                  '--no-progress'])
    written = sorted(os.listdir(out))
    assert written == [f'synth0_000000_00000{j}_leftImg8bit.png'
                       for j in (0, 2, 3)]
    src = cv2.imread(lab1, cv2.IMREAD_UNCHANGED)
    for name in written:
        lab = cv2.imread(osp.join(out, name), cv2.IMREAD_UNCHANGED)
        assert lab.shape == (32, 64) and lab.dtype == np.uint8
        assert set(np.unique(lab)) <= set(np.unique(src)) | {255}


def test_bench_propagation_on_a_tiny_world(tmp_path):
    """bench/propagation.py end to end (synthetic world only): every method
    per distance; the ground-truth-flow chain beats copying the labels."""
    root = tiny_world(tmp_path / 'world', height=48, width=96,
                      frames_per_snippet=5, labelled_frame=2)
    cfg = QUICK_CFG
    ckpt = fresh_checkpoint(cfg, tmp_path / 'fresh.pth')
    bp = load_script('bench', 'propagation.py')
    out = tmp_path / 'res'
    res = bp.main(['--config', cfg, '--checkpoint', ckpt, '--world', root,
                   '--datasets', 'synthetic', '--radius', '2', '--out-dir',
                   str(out)])['synthetic']
    assert set(res) == {'ours-chain', 'ours-direct', 'ours-chain-all',
                        'zero', 'gt-chain'}
    for m in res:
        assert sorted(res[m]) == [1, 2]
        assert res[m][1]['valid'] == 2 * 48 * 96  # frames 1 and 3
    assert res['zero'][1]['coverage'] == 100.0
    gt = res['gt-chain'][1]
    assert gt['accuracy'] > 95.0
    assert gt['accuracy'] >= gt['zero_flow_accuracy_same']
    saved = json.loads((out / 'propagation_synthetic.json').read_text())
    assert saved['results']['gt-chain']['1']['kept'] == gt['kept']
    assert '| 2 |' in (out / 'propagation.md').read_text()
