"""Tests of the embedded synthetic world (the package efc_synthetic).

Tiny sizes (64x128, 6-frame snippets) keep the whole file well under a
minute. Flow is checked with an independent numpy bilinear sampler written
here, not with the generator's own code.
"""
import glob
import hashlib
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from efc_mm.fileio import read_flow_kitti
from efc_synthetic import (USED_TRAIN_IDS, ensure_synthetic_world,
                           generate_synthetic_world, render_snippet,
                           write_flow_kitti)
from efc_synthetic import world as world_mod

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

H, W, N, LF = 64, 128, 6, 4
TINY = dict(num_train_snippets=2, num_val_snippets=1, height=H, width=W,
            frames_per_snippet=N, labelled_frame=LF, seed=0,
            snippets_per_city=2, workers=1)
# train: synth0 (2 snippets); val: synth1 (1 snippet)
SNIPPETS = [('train', 'synth0', 0), ('train', 'synth0', 1),
            ('val', 'synth1', 0)]


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth') / 'world'
    return generate_synthetic_world(str(root), **TINY)


@pytest.fixture(scope='module')
def snippets():
    return [render_snippet(s, H, W, N) for s in (0, 1, 2)]


def bilinear(img, x, y):
    """Independent bilinear sampler: ``img`` (H, W[, C]) at float (x, y);
    coordinates must be inside [0, W-1] x [0, H-1]."""
    h, w = img.shape[:2]
    x0 = np.clip(np.floor(x).astype(int), 0, w - 2)
    y0 = np.clip(np.floor(y).astype(int), 0, h - 2)
    ax, ay = x - x0, y - y0
    if img.ndim == 3:
        ax, ay = ax[..., None], ay[..., None]
    img = img.astype(np.float64)
    return ((1 - ax) * (1 - ay) * img[y0, x0] + ax * (1 - ay) *
            img[y0, x0 + 1] + (1 - ax) * ay * img[y0 + 1, x0] +
            ax * ay * img[y0 + 1, x0 + 1])


def target(flow):
    """Target coordinates ``p + flow`` and whether they are in the frame."""
    h, w = flow.shape[:2]
    x = np.arange(w)[None, :] + flow[..., 0]
    y = np.arange(h)[:, None] + flow[..., 1]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return x, y, inside


# ------------------------------------------------------------------ layout
def _stem(split, city, seq, frame, folder, suffix, root):
    return osp.join(root, folder, split, city,
                    f'{city}_{seq:06d}_{frame:06d}_{suffix}.png')


def test_layout_names_shapes_dtypes(world):
    meta = json.load(open(osp.join(world, 'meta.json')))
    assert meta['height'] == H and meta['width'] == W
    assert meta['frames_per_snippet'] == N and meta['labelled_frame'] == LF
    assert meta['splits']['train']['cities'] == {'synth0': 2}
    assert meta['splits']['val']['cities'] == {'synth1': 1}
    allowed = set(USED_TRAIN_IDS)
    expected = {'meta.json'}
    for split, city, seq in SNIPPETS:
        for f in range(N):
            p = dict(
                img=_stem(split, city, seq, f, 'leftImg8bit_sequence',
                          'leftImg8bit', world),
                lab=_stem(split, city, seq, f, 'gtFine_sequence',
                          'gtFine_labelTrainIds', world))
            for d in ('fw', 'bw'):
                p[f'occ_{d}'] = _stem(split, city, seq, f, 'flow_occ',
                                      f'flow_{d}', world)
                p[f'noc_{d}'] = _stem(split, city, seq, f, 'flow_noc',
                                      f'flow_{d}', world)
                p[f'o_{d}'] = _stem(split, city, seq, f, 'occlusion',
                                    f'occ_{d}', world)
            if f == LF:
                p['img_l'] = _stem(split, city, seq, f, 'leftImg8bit',
                                   'leftImg8bit', world)
                p['lab_l'] = _stem(split, city, seq, f, 'gtFine',
                                   'gtFine_labelTrainIds', world)
            for path in p.values():
                assert osp.isfile(path), path
                expected.add(osp.relpath(path, world))
            img = cv2.imread(p['img'], cv2.IMREAD_UNCHANGED)
            assert img.shape == (H, W, 3) and img.dtype == np.uint8
            lab = cv2.imread(p['lab'], cv2.IMREAD_UNCHANGED)
            assert lab.shape == (H, W) and lab.dtype == np.uint8
            assert set(np.unique(lab).tolist()) <= allowed
            for d in ('fw', 'bw'):
                for k in ('occ', 'noc'):
                    raw = cv2.imread(p[f'{k}_{d}'], cv2.IMREAD_UNCHANGED)
                    assert raw.shape == (H, W, 3) and raw.dtype == np.uint16
                occ = cv2.imread(p[f'o_{d}'], cv2.IMREAD_UNCHANGED)
                assert occ.shape == (H, W) and occ.dtype == np.uint8
                assert set(np.unique(occ).tolist()) <= {0, 255}
            if f == LF:
                assert open(p['img_l'], 'rb').read() == open(p['img'],
                                                            'rb').read()
                assert np.array_equal(
                    cv2.imread(p['lab_l'], cv2.IMREAD_UNCHANGED), lab)
    # nothing else: only the labelled frame in gtFine / leftImg8bit
    found = {osp.relpath(p, world)
             for p in glob.glob(osp.join(world, '**', '*'), recursive=True)
             if osp.isfile(p)}
    assert found == expected
    assert all(f'_{LF:06d}_' in p for p in glob.glob(
        osp.join(world, 'gtFine', '*', '*', '*.png')))
    # no temporary folder left next to the world
    assert os.listdir(osp.dirname(world)) == ['world']


def test_disk_matches_memory_and_kitti_round_trip(world):
    """Files equal the in-memory render; KITTI PNGs round trip through
    read_flow_kitti within 1/64 px; flow_noc's valid = not occluded."""
    out = render_snippet((0, 0, 0), H, W, N)  # train snippet 0
    for f in (0, LF, N - 1):
        img = cv2.imread(_stem('train', 'synth0', 0, f,
                               'leftImg8bit_sequence', 'leftImg8bit',
                               world))
        assert np.array_equal(img, out['images'][f])
        for d in ('fw', 'bw'):
            flow, valid = read_flow_kitti(
                _stem('train', 'synth0', 0, f, 'flow_occ', f'flow_{d}',
                      world))
            assert valid.min() == 1
            assert np.abs(flow - out[f'flow_{d}'][f]).max() <= 1 / 64
            _, valid_noc = read_flow_kitti(
                _stem('train', 'synth0', 0, f, 'flow_noc', f'flow_{d}',
                      world))
            occ = cv2.imread(_stem('train', 'synth0', 0, f, 'occlusion',
                                   f'occ_{d}', world), cv2.IMREAD_UNCHANGED)
            assert np.array_equal(occ == 255, out[f'occ_{d}'][f])
            assert np.array_equal(valid_noc == 0, occ == 255)


def test_kitti_png_round_trip(tmp_path, snippets):
    flow = snippets[0]['flow_fw'][1]
    path = str(tmp_path / 'f.png')
    write_flow_kitti(path, flow)
    back, valid = read_flow_kitti(path)
    assert valid.all()
    assert np.abs(back - flow).max() <= 0.5 / 64 + 1e-6
    assert np.abs(back - flow).max() > 0  # it really is quantised


# --------------------------------------------------------- flow exactness
def test_warp_by_forward_flow_reproduces_frame(snippets):
    """Warping frame t+1 by flow_fw(t) reproduces frame t (brightness gain
    undone) far better than zero flow. Strict check on pixels that are not
    occluded, whose bilinear footprint in t+1 lies on the same surface (no
    mixing across a silhouette) and that move at least 1 px (sub-pixel
    motion makes zero flow a meaningless baseline); looser on all
    non-occluded pixels."""
    tot = np.zeros(4)
    for out in snippets:
        g, ids = out['brightness'], out['layer_ids']
        acc = np.zeros(4)
        for t in range(N - 1):
            a = out['images'][t].astype(np.float64)
            b = out['images'][t + 1].astype(np.float64) * g[t] / g[t + 1]
            flow = out['flow_fw'][t]
            x, y, inside = target(flow)
            vis = inside & ~out['occ_fw'][t]
            assert vis.mean() > 0.3
            xc, yc = np.clip(x, 0, W - 1), np.clip(y, 0, H - 1)
            x0 = np.minimum(np.floor(xc).astype(int), W - 2)
            y0 = np.minimum(np.floor(yc).astype(int), H - 2)
            same = np.ones_like(vis)
            for dy in (0, 1):
                for dx in (0, 1):
                    same &= ids[t + 1][y0 + dy, x0 + dx] == ids[t]
            strict = vis & same & (np.linalg.norm(flow, axis=-1) >= 1)
            err = np.abs(bilinear(b, xc, yc) - a).mean(-1)
            zero = np.abs(b - a).mean(-1)
            acc += [err[strict].sum(), zero[strict].sum(), err[vis].sum(),
                    zero[vis].sum()]
        assert acc[0] < 0.25 * acc[1], acc
        tot += acc
    assert tot[2] < 0.35 * tot[3], tot


def test_warp_check_can_fail(snippets):
    """The warp criterion rejects a wrong flow (sign flipped)."""
    out = snippets[0]
    t = 1
    a = out['images'][t].astype(np.float64)
    b = out['images'][t + 1].astype(np.float64)
    good = out['flow_fw'][t]
    bad = -good
    errs = []
    for flow in (good, bad):
        x, y, inside = target(flow)
        m = ~out['occ_fw'][t] & inside
        warped = bilinear(b, np.clip(x, 0, W - 1), np.clip(y, 0, H - 1))
        errs.append(np.abs(warped - a).mean(-1)[m].mean())
    assert errs[1] > 3 * errs[0]


def test_forward_backward_consistency(snippets):
    for out in snippets:
        for t in range(N - 1):
            fw, bw = out['flow_fw'][t], out['flow_bw'][t + 1]
            x, y, inside = target(fw)
            m = inside & ~out['occ_fw'][t]
            bw_at = bilinear(bw, np.clip(x, 0, W - 1), np.clip(y, 0, H - 1))
            d = np.linalg.norm(fw + bw_at, axis=-1)[m]
            assert np.median(d) < 0.02
            assert np.percentile(d, 90) < 0.25
    # and the first frame's backward / last frame's forward flow exist
    assert np.isfinite(snippets[0]['flow_bw'][0]).all()
    assert np.isfinite(snippets[0]['flow_fw'][-1]).all()


def test_occlusion_marks_pixels_leaving_the_frame():
    out = render_snippet(7, H, W, N,
                         camera=dict(speed=1.0, zoom=0.0, yaw_amp=0.0,
                                     yaw_rate=0.0, sway_amp=0.0),
                         objects=False)
    for t in range(N - 1):
        x, y, inside = target(out['flow_fw'][t])
        occ = out['occ_fw'][t]
        assert (~inside).any()  # forward motion pushes the border out
        assert occ[~inside].all()
        # the ground at the bottom row moves down, out of the image
        assert occ[-1].mean() > 0.9
        x, y, inside = target(out['flow_bw'][t + 1])
        assert out['occ_bw'][t + 1][~inside].all()


def test_occlusion_agrees_with_visible_layers(snippets):
    """Non-occluded pixels land on the same layer in the next frame;
    occluded in-frame pixels land on a nearer one."""
    for out in snippets:
        for t in range(N - 1):
            x, y, inside = target(out['flow_fw'][t])
            ri = np.clip(np.rint(y), 0, H - 1).astype(int)
            rj = np.clip(np.rint(x), 0, W - 1).astype(int)
            same = out['layer_ids'][t + 1][ri, rj] == out['layer_ids'][t]
            vis = inside & ~out['occ_fw'][t]
            assert same[vis].mean() > 0.97
            hidden = inside & out['occ_fw'][t]
            if hidden.sum() > 20:
                nearer = out['depth'][t + 1][ri, rj] < out['depth'][t]
                assert nearer[hidden].mean() > 0.5


# ------------------------------------------------------------- world sense
def test_labels_and_texture_richness(snippets):
    seen = set()
    kernel = np.ones((5, 5), np.uint8)
    for out in snippets:
        lab = out['labels'][2]
        assert set(np.unique(lab).tolist()) <= set(USED_TRAIN_IDS)
        seen |= set(np.unique(out['labels']).tolist())
        grey = out['images'][2].astype(np.float32).mean(-1)
        gy, gx = np.gradient(grey)
        grad = np.hypot(gx, gy)
        for c in np.unique(lab):
            inner = cv2.erode((lab == c).astype(np.uint8), kernel) > 0
            if inner.sum() < 150:
                continue
            # textured, not flat: gradients and spread inside the region
            assert grad[inner].mean() > 1.0, c
            assert grey[inner].std() > 3.0, c
    assert {0, 1, 2, 10} <= seen
    assert seen & {11, 12, 13}  # some traffic participants


def test_objects_move_and_camera_moves(snippets):
    moving = False
    for out in snippets:
        # background layers are moved by the camera
        assert np.abs(out['flow_fw']).max() > 1.0
        lab = out['labels'][0]
        for c in (11, 12, 13, 18):
            if (lab == c).sum() > 5:
                moving = True
        # brightness changes a little between frames
        g = out['brightness']
        assert 0.85 <= g.min() and g.max() <= 1.15
        assert np.ptp(g) > 0
    assert moving


# ------------------------------------------------------------ determinism
def test_determinism_same_seed_same_bytes(tmp_path):
    kw = dict(num_train_snippets=1, num_val_snippets=1, height=32, width=64,
              frames_per_snippet=3, labelled_frame=1, seed=5)
    a = generate_synthetic_world(str(tmp_path / 'a'), workers=1, **kw)
    # a live OpenCV thread pool in the parent used to deadlock forked workers
    prev = cv2.getNumThreads()
    cv2.setNumThreads(2)
    big = np.zeros((512, 512), np.float32)
    cv2.remap(big, big, big, cv2.INTER_LINEAR)
    b = generate_synthetic_world(str(tmp_path / 'b'), workers=2, **kw)
    assert cv2.getNumThreads() == 2  # restored
    cv2.setNumThreads(prev)
    c = generate_synthetic_world(str(tmp_path / 'c'), workers=1,
                                 **dict(kw, seed=6))

    def files(root):
        return sorted(osp.relpath(p, root) for p in glob.glob(
            osp.join(root, '**', '*'), recursive=True) if osp.isfile(p))

    assert files(a) == files(b) == files(c)
    for rel in files(a):
        assert open(osp.join(a, rel), 'rb').read() == open(
            osp.join(b, rel), 'rb').read(), rel
    differ = [
        rel for rel in files(a) if 'leftImg8bit_sequence' in rel
        and open(osp.join(a, rel), 'rb').read() != open(
            osp.join(c, rel), 'rb').read()
    ]
    assert len(differ) == len([r for r in files(a)
                               if 'leftImg8bit_sequence' in r])
    x, y = render_snippet(3, 32, 64, 3), render_snippet(3, 32, 64, 3)
    for k in ('images', 'labels', 'flow_fw', 'occ_bw'):
        assert np.array_equal(x[k], y[k])


#: sha256 over (relative path, decoded pixels) of every PNG of the world
#: below, as generator version 1.0 writes it (measured before the generator
#: moved from efc_mm.datasets.synthetic to efc_synthetic; pixels, not file
#: bytes, so that another zlib in OpenCV does not matter).
#: Worlds on disk are reused whenever meta.json matches, so the bytes may
#: change only together with GENERATOR_VERSION.
GOLDEN_WORLD_SHA256 = {
    '1.0': 'f95d43ee44fb2ac630d436cb5e85c512c55d045044861c1500156f4cbbc8a684'}


def _world_digest(root):
    h = hashlib.sha256()
    for p in sorted(glob.glob(osp.join(root, '**', '*'), recursive=True)):
        rel = osp.relpath(p, root)
        if osp.isfile(p) and rel != 'meta.json':
            img = cv2.imread(p, cv2.IMREAD_UNCHANGED)
            h.update(f'{rel} {img.shape} {img.dtype}'.encode())
            h.update(np.ascontiguousarray(img).tobytes())
    return h.hexdigest()


def test_world_bytes_change_only_with_generator_version(tmp_path):
    root = generate_synthetic_world(
        str(tmp_path / 'w'), num_train_snippets=2, num_val_snippets=1,
        height=64, width=96, frames_per_snippet=4, labelled_frame=2,
        snippets_per_city=2, seed=3, workers=1)
    version = world_mod.GENERATOR_VERSION
    assert version in GOLDEN_WORLD_SHA256, (
        f'new GENERATOR_VERSION {version}: add its digest here')
    assert _world_digest(root) == GOLDEN_WORLD_SHA256[version]


# ---------------------------------------------------- ensure / robustness
def test_ensure_is_idempotent_and_regenerates_on_change(tmp_path):
    kw = dict(num_train_snippets=1, num_val_snippets=0, height=32, width=64,
              frames_per_snippet=3, labelled_frame=1, seed=0, workers=1)
    root = ensure_synthetic_world(str(tmp_path / 'w'), **kw)
    meta = osp.join(root, 'meta.json')
    stamp = os.stat(meta).st_mtime_ns
    assert ensure_synthetic_world(root, **kw) == root
    assert os.stat(meta).st_mtime_ns == stamp  # untouched
    # concurrent callers: one generates, the others wait and reuse it
    import threading
    other = str(tmp_path / 'w2')
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        ensure_synthetic_world(other, **kw))) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [other] * 3
    assert sorted(os.listdir(tmp_path)) == ['.w.lock', '.w2.lock', 'w', 'w2']
    ensure_synthetic_world(root, **dict(kw, seed=1))
    assert json.load(open(meta))['seed'] == 1
    # without meta.json the folder is not recognisably ours: refused
    os.remove(meta)
    with pytest.raises(FileExistsError, match='refusing'):
        ensure_synthetic_world(root, **kw)


def test_world_with_the_old_generator_name_is_reused(tmp_path):
    """A world whose meta.json names the generator's former module
    (efc_mm.datasets.synthetic) is accepted as it is, not regenerated."""
    kw = dict(num_train_snippets=1, num_val_snippets=0, height=32, width=64,
              frames_per_snippet=2, labelled_frame=1, seed=0, workers=1)
    root = generate_synthetic_world(str(tmp_path / 'w'), **kw)
    meta_path = osp.join(root, 'meta.json')
    meta = json.load(open(meta_path))
    assert meta['generator'] == 'efc_synthetic'
    meta['generator'] = 'efc_mm.datasets.synthetic'
    with open(meta_path, 'w') as f:
        json.dump(meta, f)
    stamp = os.stat(meta_path).st_mtime_ns
    assert ensure_synthetic_world(root, **kw) == root
    assert os.stat(meta_path).st_mtime_ns == stamp  # not regenerated
    meta['generator'] = 'someone_else'
    with open(meta_path, 'w') as f:
        json.dump(meta, f)
    with pytest.raises(FileExistsError, match='refusing'):
        ensure_synthetic_world(root, **kw)


def test_generator_imports_neither_torch_nor_mmseg():
    code = ('import sys, efc_synthetic; '
            'bad = [m for m in ("torch", "mmseg", "mmcv", "efc_mm") '
            'if m in sys.modules]; assert not bad, bad; print("OK")')
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, '-c', code], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and 'OK' in proc.stdout, proc.stderr


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def boom(task):
        calls.append(task)
        if len(calls) == 2:
            raise KeyboardInterrupt('killed')
        return real(task)

    real = world_mod._write_snippet
    monkeypatch.setattr(world_mod, '_write_snippet', boom)
    with pytest.raises(KeyboardInterrupt):
        generate_synthetic_world(str(tmp_path / 'w'), num_train_snippets=3,
                                 num_val_snippets=0, height=32, width=64,
                                 frames_per_snippet=3, labelled_frame=1,
                                 workers=1)
    assert os.listdir(tmp_path) == []


def test_clear_errors(tmp_path):
    with pytest.raises(ValueError, match='height'):
        generate_synthetic_world(str(tmp_path / 'w'), height=8)
    with pytest.raises(ValueError, match='labelled_frame'):
        generate_synthetic_world(str(tmp_path / 'w'), frames_per_snippet=10,
                                 labelled_frame=19)
    with pytest.raises(ValueError):
        render_snippet(0, 64, 128, 1)
    foreign = tmp_path / 'mine'
    foreign.mkdir()
    (foreign / 'precious.txt').write_text('do not delete')
    with pytest.raises(FileExistsError):
        generate_synthetic_world(str(foreign), num_train_snippets=1,
                                 num_val_snippets=0, height=32, width=64,
                                 frames_per_snippet=2, labelled_frame=1)
    assert (foreign / 'precious.txt').exists()
    if os.geteuid() != 0:
        ro = tmp_path / 'ro'
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(PermissionError):
                generate_synthetic_world(str(ro / 'w'), num_train_snippets=1,
                                         num_val_snippets=0, height=32,
                                         width=64, frames_per_snippet=2,
                                         labelled_frame=1)
        finally:
            ro.chmod(0o700)


def test_command_line(tmp_path, capsys):
    import importlib.util
    path = osp.join(osp.dirname(__file__), '..', 'tools',
                    'dataset_converters', 'generate_synthetic_world.py')
    spec = importlib.util.spec_from_file_location('gen_world_cli', path)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = str(tmp_path / 'cli')
    cli.main([out, '--train', '1', '--val', '1', '--height', '32',
              '--width', '64', '--frames', '3', '--labelled-frame', '1',
              '--workers', '1', '--seed', '3'])
    assert 'synthetic world' in capsys.readouterr().out
    meta = json.load(open(osp.join(out, 'meta.json')))
    assert meta['seed'] == 3 and meta['splits']['val']['num_snippets'] == 1
