"""Pair transforms: constructed cases and a warp check on real pairs.

The warp check is independent of efc_mm: frame 2 is warped with
``cv2.remap`` by the transformed ground-truth flow and must reproduce
frame 1 far better than zero flow does.
"""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

import efc_mm  # noqa: F401  (compat first)
from efc_mm.datasets.transforms import (LoadPairAnnotations, LoadPairFromFile,
                                        PackPairInputs,
                                        PairPhotoMetricDistortion,
                                        PairRandomCrop, PairRandomFlip,
                                        PairRandomResize, PairRandomRotate,
                                        PairResize, rotate_pair)
from efc_mm.fileio import write_flo, write_flow_kitti
from efc_mm.structures import PairDataSample
from mmseg.registry import TRANSFORMS

from conftest import SAMPLES, missing_data  # noqa: E402


def _grid(h, w):
    return np.meshgrid(np.arange(w, dtype=np.float32),
                       np.arange(h, dtype=np.float32))


def warp_ratio(img1, img2, flow, valid, occ=None, margin=0):
    """Mean |I1 - warp(I2, flow)| / mean |I1 - I2| over valid pixels whose
    target is inside frame 2 (and not occluded). Independent numpy / cv2."""
    h, w = img1.shape[:2]
    xx, yy = _grid(h, w)
    mx = xx + flow[..., 0]
    my = yy + flow[..., 1]
    warped = cv2.remap(img2.astype(np.float32), mx, my, cv2.INTER_LINEAR)
    m = (valid > 0) & (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    # image pixels that are not rotation / padding fill in either frame
    m &= (img1.sum(-1) > 0) & (warped.sum(-1) > 0)
    if occ is not None:
        m &= occ < 0.5
    if margin:
        m[:margin] = m[-margin:] = False
        m[:, :margin] = m[:, -margin:] = False
    assert m.sum() > 200, f'too few pixels to compare: {m.sum()}'
    i1 = img1.astype(np.float32)
    err = np.abs(i1 - warped)[m].mean()
    err0 = np.abs(i1 - img2.astype(np.float32))[m].mean()
    return err / err0


def _pair_results(h=40, w=60, seed=0, flow=None, sparse=False):
    rng = np.random.default_rng(seed)
    img = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    img2 = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    if flow is None:
        flow = rng.normal(0, 3, (h, w, 2)).astype(np.float32)
    valid = np.ones((h, w), np.float32)
    if sparse:
        valid = (rng.random((h, w)) < 0.2).astype(np.float32)
        flow = flow * valid[..., None]
    seg = rng.integers(0, 19, (h, w)).astype(np.uint8)
    return dict(img=img, img2=img2, gt_seg_map=seg,
                gt_seg_map2=np.full((h, w), 255, np.uint8),
                seg_fields=['gt_seg_map', 'gt_seg_map2'],
                gt_flow_fw=flow.copy(), gt_valid_fw=valid,
                gt_flow_bw=-flow.copy(), gt_valid_bw=valid.copy(),
                gt_occ_fw=np.zeros((h, w), np.float32),
                img_shape=(h, w), ori_shape=(h, w), img_path='a.png',
                img2_path='b.png', frame_gap=1, labelled=(True, False),
                sequence='s')


# --------------------------------------------------------------- constructed
def test_flip_negates_u_exactly():
    r = _pair_results()
    f0 = r['gt_flow_fw'].copy()
    out = PairRandomFlip(prob=1.0, direction='horizontal')(r)
    assert out['flip'] and out['flip_direction'] == 'horizontal'
    np.testing.assert_array_equal(out['gt_flow_fw'][..., 0],
                                  -f0[:, ::-1, 0])
    np.testing.assert_array_equal(out['gt_flow_fw'][..., 1], f0[:, ::-1, 1])
    r = _pair_results()
    out = PairRandomFlip(prob=1.0, direction='vertical')(r)
    np.testing.assert_array_equal(out['gt_flow_fw'][..., 1],
                                  -f0[::-1, :, 1])
    np.testing.assert_array_equal(out['gt_flow_fw'][..., 0], f0[::-1, :, 0])
    r = _pair_results()
    out = PairRandomFlip(prob=0.0)(r)
    assert not out['flip']
    np.testing.assert_array_equal(out['gt_flow_fw'], f0)


def test_resize_scale_two_doubles_vectors():
    flow = np.zeros((20, 30, 2), np.float32)
    flow[..., 0], flow[..., 1] = 1.5, -2.0
    r = _pair_results(20, 30, flow=flow)
    out = PairResize(scale=2.0)(r)
    assert out['img'].shape == (40, 60, 3) == out['img2'].shape
    assert out['gt_seg_map'].shape == (40, 60)
    assert out['scale_factor'] == (2.0, 2.0)
    np.testing.assert_allclose(out['gt_flow_fw'][..., 0], 3.0, atol=1e-5)
    np.testing.assert_allclose(out['gt_flow_fw'][..., 1], -4.0, atol=1e-5)
    assert out['gt_valid_fw'].min() == 1
    # labels stay labels (nearest)
    assert set(np.unique(out['gt_seg_map'])) <= set(range(19))


def test_resize_keep_ratio_and_anisotropic_scale():
    flow = np.ones((20, 40, 2), np.float32)
    r = _pair_results(20, 40, flow=flow)
    out = PairResize(scale=(80, 20), keep_ratio=False)(r)
    assert out['img'].shape[:2] == (20, 80)
    np.testing.assert_allclose(out['gt_flow_fw'][..., 0], 2.0, atol=1e-5)
    np.testing.assert_allclose(out['gt_flow_fw'][..., 1], 1.0, atol=1e-5)
    r = _pair_results(20, 40, flow=flow)
    out = PairResize(scale=(400, 60), keep_ratio=True)(r)
    assert out['img'].shape[:2] == (60, 120)


def test_sparse_flow_never_blends_with_holes():
    r = _pair_results(30, 40, sparse=True, seed=3)
    vals = set(np.round(r['gt_flow_fw'][r['gt_valid_fw'] > 0]
                        .reshape(-1, 2), 4).view([('', np.float32)] * 2)
               .ravel().tolist())
    out = PairResize(scale=1.7)(r)
    v = out['gt_valid_fw'] > 0
    assert 0 < v.mean() < 0.5
    new = out['gt_flow_fw'][v] / np.float32(1.7)
    for u_v in np.round(new, 4)[:50]:
        assert tuple(u_v.tolist()) in vals
    assert (out['gt_flow_fw'][~v] == 0).all()


def test_rotation_90_maps_u_v_to_minus_v_u():
    h = w = 31
    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0], flow[..., 1] = 2.0, 0.5
    r = _pair_results(h, w, flow=flow)
    rotate_pair(r, 90)
    inner = r['gt_valid_fw'] > 0
    assert inner.mean() > 0.9
    np.testing.assert_allclose(r['gt_flow_fw'][inner][:, 0], -0.5, atol=1e-4)
    np.testing.assert_allclose(r['gt_flow_fw'][inner][:, 1], 2.0, atol=1e-4)
    # clockwise on screen: the top-left corner goes to the top-right
    img = np.zeros((h, w, 3), np.uint8)
    img[0, 0] = 255
    r2 = _pair_results(h, w)
    r2['img'] = img
    rotate_pair(r2, 90)
    assert r2['img'][0, w - 1].max() == 255


def test_valid_mask_without_flow_is_resampled():
    r = _pair_results(20, 30)
    del r['gt_flow_bw']
    out = PairResize(scale=0.5)(r)
    assert out['gt_valid_bw'].shape == (10, 15)
    assert out['gt_occ_fw'].shape == (10, 15)


def test_rotation_fills_labels_with_ignore_and_masks():
    r = _pair_results(40, 40)
    out = PairRandomRotate(prob=1.0, degree=(30, 30))(r)
    assert out['rotate_angle'] == 30
    corner = (slice(0, 3), slice(0, 3))
    assert (out['gt_seg_map'][corner] == 255).all()
    assert (out['gt_valid_fw'][corner] == 0).all()
    assert (out['gt_occ_fw'][corner] == 1).all()
    assert (out['img'][corner] == 0).all()
    assert set(np.unique(out['gt_seg_map'])) <= set(range(19)) | {255}


def test_rotation_of_a_synthetic_translation_passes_warp_check():
    """Frame 2 = frame 1 shifted by (3, -2): after rotating both frames by
    an arbitrary angle, the rotated flow still warps frame 2 onto frame 1;
    the un-rotated vectors do not."""
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur((rng.random((90, 110, 3)) * 255).astype(
        np.uint8), (0, 0), 2)
    img1 = base[10:80, 10:100]
    img2 = base[12:82, 7:97]   # content of img1 at p is at p + (3, -2)
    h, w = img1.shape[:2]
    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0], flow[..., 1] = 3.0, -2.0
    r = dict(img=img1.copy(), img2=img2.copy(), gt_flow_fw=flow,
             gt_valid_fw=np.ones((h, w), np.float32))
    assert warp_ratio(img1, img2, flow, np.ones((h, w))) < 0.2
    rotate_pair(r, 37.0)
    good = warp_ratio(r['img'], r['img2'], r['gt_flow_fw'],
                      r['gt_valid_fw'], margin=2)
    bad = warp_ratio(r['img'], r['img2'], flow, r['gt_valid_fw'],
                     margin=2)
    assert good < 0.3, good
    assert bad > 2 * good, (good, bad)


def test_crop_same_window_and_cat_max_ratio():
    r = _pair_results(50, 60, seed=1)
    f0 = r['gt_flow_fw'].copy()
    i0 = r['img'].copy()
    np.random.seed(5)
    out = PairRandomCrop(crop_size=(20, 30), cat_max_ratio=0.75)(r)
    x1, y1, x2, y2 = out['crop_bbox']
    assert out['img'].shape[:2] == (20, 30) == out['img2'].shape[:2]
    np.testing.assert_array_equal(out['img'], i0[y1:y2, x1:x2])
    np.testing.assert_array_equal(out['gt_flow_fw'], f0[y1:y2, x1:x2])
    assert out['gt_seg_map2'].shape == (20, 30)
    # a label that is one class on the left half and mixed on the right:
    # cat_max_ratio pushes the crop to the mixed half
    seg = np.zeros((50, 60), np.uint8)
    seg[:, 30:] = np.random.default_rng(0).integers(0, 5, (50, 30))
    hits = 0
    for s in range(20):
        r = _pair_results(50, 60)
        r['gt_seg_map'] = seg.copy()
        np.random.seed(s)
        out = PairRandomCrop((10, 10), cat_max_ratio=0.5)(r)
        hits += out['crop_bbox'][0] >= 25
    assert hits >= 15
    with pytest.raises(ValueError):
        PairRandomCrop(crop_size=(0, 10))


def test_random_resize_range():
    np.random.seed(0)
    for _ in range(5):
        r = _pair_results(20, 40)
        out = PairRandomResize(scale=None, ratio_range=(0.5, 1.5))(r)
        h, w = out['img'].shape[:2]
        assert 10 <= h <= 30 and 20 <= w <= 60
        sx, sy = out['scale_factor']
        assert abs(sx - w / 40) < 1e-6
    r = _pair_results(100, 200)
    out = PairRandomResize(scale=(2048, 1024), ratio_range=(0.5, 0.5))(r)
    assert out['img'].shape[:2] == (512, 1024)


def test_photometric_same_and_independent():
    r = _pair_results()
    r['img2'] = r['img'].copy()
    np.random.seed(1)
    out = PairPhotoMetricDistortion(independent=False)(r)
    np.testing.assert_array_equal(out['img'], out['img2'])
    diffs = 0
    for s in range(5):
        r = _pair_results()
        r['img2'] = r['img'].copy()
        np.random.seed(s)
        out = PairPhotoMetricDistortion(independent=True)(r)
        diffs += int((out['img'] != out['img2']).any())
    assert diffs >= 3


def test_photometric_matches_mmseg_draw_for_draw():
    """Oracle: mmseg's own PhotoMetricDistortion under the same seed, on
    each frame; shared jitter leaves numpy's stream where one mmseg call
    leaves it (later transforms draw the same), independent jitter equals
    two mmseg calls in a row."""
    import pickle
    from mmseg.datasets.transforms import PhotoMetricDistortion
    rng = np.random.default_rng(0)
    for s in range(12):
        img, img2 = [(rng.random((9, 11, 3)) * 255).astype(np.uint8)
                     for _ in range(2)]
        np.random.seed(s)
        out = PairPhotoMetricDistortion()(dict(img=img.copy(),
                                               img2=img2.copy(), x=1))
        nxt = np.random.rand()
        np.random.seed(s)
        ref1 = PhotoMetricDistortion().transform(dict(img=img.copy()))['img']
        nxt_ref = np.random.rand()
        np.random.seed(s)
        ref2 = PhotoMetricDistortion().transform(dict(img=img2.copy()))['img']
        np.testing.assert_array_equal(out['img'], ref1)
        np.testing.assert_array_equal(out['img2'], ref2)
        assert nxt == nxt_ref and out['x'] == 1
        np.random.seed(s)
        out = PairPhotoMetricDistortion(independent=True)(
            dict(img=img.copy(), img2=img2.copy()))
        np.random.seed(s)
        pmd = PhotoMetricDistortion()
        np.testing.assert_array_equal(
            out['img'], pmd.transform(dict(img=img.copy()))['img'])
        np.testing.assert_array_equal(
            out['img2'], pmd.transform(dict(img=img2.copy()))['img'])
    # DataLoader workers pickle the pipeline
    t = pickle.loads(pickle.dumps(PairPhotoMetricDistortion()))
    assert t.share_random_params


def test_pack_pair_inputs_contract():
    r = _pair_results(12, 16)
    r['flip'], r['flip_direction'] = False, None
    r['seg_map_path'], r['seg_map2_path'] = 'a_gt.png', None
    out = PackPairInputs()(r)
    inputs, s = out['inputs'], out['data_samples']
    assert inputs.dtype == torch.uint8 and inputs.shape == (2, 3, 12, 16)
    assert torch.equal(inputs[0], torch.from_numpy(r['img']).permute(2, 0, 1))
    assert torch.equal(inputs[1],
                       torch.from_numpy(r['img2']).permute(2, 0, 1))
    assert isinstance(s, PairDataSample)
    for fr in s.frames:
        assert fr.gt_sem_seg.data.shape == (1, 12, 16)
        assert fr.gt_sem_seg.data.dtype == torch.long
    assert (s.frame2.gt_sem_seg.data == 255).all()
    assert s.frame1.img_path == 'a.png' and s.frame2.img_path == 'b.png'
    assert s.frame2.seg_map_path is None and s.frame1.flip is False
    assert s.gt_flow_fw.data.shape == (2, 12, 16)
    assert s.gt_flow_fw.data.dtype == torch.float32
    np.testing.assert_array_equal(s.gt_flow_fw.data[0].numpy(),
                                  r['gt_flow_fw'][..., 0])
    assert s.gt_valid_fw.data.shape == (1, 12, 16)
    assert s.gt_occ_fw.data.shape == (1, 12, 16)
    assert s.frame_gap == 1 and s.labelled == (True, False)
    assert s.sequence == 's' and tuple(s.img_shape) == (12, 16)
    # without labels: all-255 maps are still there
    r = _pair_results(12, 16)
    del r['gt_seg_map'], r['gt_seg_map2']
    s = PackPairInputs()(r)['data_samples']
    assert (s.frame1.gt_sem_seg.data == 255).all()


def test_packed_pair_goes_through_data_preprocessor():
    from efc_mm.models import PairSegDataPreProcessor
    outs = [PackPairInputs()(_pair_results(12, 16, seed=i)) for i in (0, 1)]
    pre = PairSegDataPreProcessor(mean=[0, 0, 0], std=[1, 1, 1],
                                  bgr_to_rgb=True, size=(16, 20))
    batch = pre(dict(inputs=[o['inputs'] for o in outs],
                     data_samples=[o['data_samples'] for o in outs]), True)
    assert batch['inputs'].shape == (2, 2, 3, 16, 20)
    s = batch['data_samples'][0]
    assert s.gt_flow_fw.data.shape == (2, 16, 20)
    assert s.frame1.gt_sem_seg.data.shape == (1, 16, 20)


def test_registered_in_mmseg_scope():
    for name in ('LoadPairFromFile', 'LoadPairAnnotations', 'PairResize',
                 'PairRandomResize', 'PairRandomCrop', 'PairRandomRotate',
                 'PairRandomFlip', 'PairPhotoMetricDistortion',
                 'PackPairInputs'):
        assert TRANSFORMS.get(name) is not None, name


# ---------------------------------------------------------- loading errors
def test_loading_refuses_bad_input(tmp_path):
    a, b, c = (str(tmp_path / n) for n in ('a.png', 'b.png', 'c.png'))
    cv2.imwrite(a, np.zeros((10, 12, 3), np.uint8))
    cv2.imwrite(b, np.zeros((10, 12, 3), np.uint8))
    cv2.imwrite(c, np.zeros((11, 12, 3), np.uint8))
    bad = str(tmp_path / 'bad.png')
    with open(bad, 'wb') as f:
        f.write(b'not a png at all')
    load = LoadPairFromFile()
    with pytest.raises(FileNotFoundError, match='missing.png'):
        load(dict(img_path=a, img2_path=str(tmp_path / 'missing.png')))
    with pytest.raises(ValueError, match='bad.png'):
        load(dict(img_path=a, img2_path=bad))
    with pytest.raises(ValueError, match=r'a\.png.*c\.png'):
        load(dict(img_path=a, img2_path=c))
    r = load(dict(img_path=a, img2_path=b))
    assert r['img'].shape == (10, 12, 3) and r['img_shape'] == (10, 12)
    # labels: a value outside the classes and not 255
    lab = str(tmp_path / 'lab.png')
    seg = np.zeros((10, 12), np.uint8)
    seg[0, 0] = 19
    cv2.imwrite(lab, seg)
    ann = LoadPairAnnotations()
    with pytest.raises(ValueError, match=r'lab\.png.*\[19\]'):
        ann(dict(r, seg_map_path=lab, num_classes=19))
    seg[0, 0] = 255
    cv2.imwrite(lab, seg)
    out = ann(dict(r, seg_map_path=lab, seg_map2_path=None, num_classes=19))
    assert (out['gt_seg_map2'] == 255).all() and out['gt_seg_map'][0, 0] == 255
    # flow of the wrong size
    fl = str(tmp_path / 'f.flo')
    write_flo(fl, np.zeros((9, 12, 2), np.float32))
    with pytest.raises(ValueError, match=r'f\.flo'):
        ann(dict(r, flow_fw_path=fl))


def test_occlusion_from_flow_noc(tmp_path):
    h, w = 8, 10
    flow = np.ones((h, w, 2), np.float32)
    noc_valid = np.ones((h, w))
    noc_valid[2:4, 3:6] = 0
    write_flow_kitti(str(tmp_path / 'occ.png'), flow)
    write_flow_kitti(str(tmp_path / 'noc.png'), flow, noc_valid)
    img = str(tmp_path / 'i.png')
    cv2.imwrite(img, np.zeros((h, w, 3), np.uint8))
    r = LoadPairFromFile()(dict(img_path=img, img2_path=img))
    r = LoadPairAnnotations()(dict(
        r, flow_fw_path=str(tmp_path / 'occ.png'),
        flow_noc_fw_path=str(tmp_path / 'noc.png')))
    np.testing.assert_array_equal(r['gt_occ_fw'], 1 - noc_valid)
    assert r['gt_valid_fw'].min() == 1
    np.testing.assert_allclose(r['gt_flow_fw'], 1.0)


# ------------------------------------------------------------ real pairs
REAL = [
    ('middlebury_rubberwhale', 'frame10.png', 'frame11.png', 'flow10.flo',
     (300, 380)),
    ('sintel_alley_pair', 'frame_0001.png', 'frame_0002.png',
     'frame_0001.flo', (300, 380)),
    # a wide crop: KITTI's flow_occ GT includes occluded pixels, and a small
    # crop of the left side (occlusions, large motion) is photometrically
    # poor whatever the transform; the crop itself is tested above
    ('kitti15_000000', '000000_10.png', '000000_11.png',
     'flow_gt_000000_10.png', (300, 900)),
]


def _need_samples():
    if not osp.isdir(SAMPLES):
        pytest.skip(missing_data(SAMPLES))


@pytest.mark.parametrize('name,f1,f2,flow,crop', REAL,
                         ids=[r[0] for r in REAL])
def test_real_pairs_warp_after_random_geometry(name, f1, f2, flow, crop):
    _need_samples()
    d = osp.join(SAMPLES, name)
    pipeline = [
        TRANSFORMS.build(dict(type='LoadPairFromFile')),
        TRANSFORMS.build(dict(type='LoadPairAnnotations')),
        TRANSFORMS.build(dict(type='PairRandomResize', scale=None,
                              ratio_range=(0.8, 1.25))),
        TRANSFORMS.build(dict(type='PairRandomCrop', crop_size=crop)),
        TRANSFORMS.build(dict(type='PairRandomRotate', prob=1.0,
                              degree=20)),
        TRANSFORMS.build(dict(type='PairRandomFlip', prob=0.5,
                              direction=['horizontal', 'vertical'])),
    ]
    base = dict(img_path=osp.join(d, f1), img2_path=osp.join(d, f2),
                flow_fw_path=osp.join(d, flow))
    r0 = pipeline[1](pipeline[0](dict(base)))
    ratio0 = warp_ratio(r0['img'], r0['img2'], r0['gt_flow_fw'],
                        r0['gt_valid_fw'])
    assert ratio0 < 0.5
    flips = set()
    for seed in range(4):
        np.random.seed(seed)
        r = dict(base)
        for t in pipeline:
            r = t(r)
        flips.add(r['flip_direction'])
        assert r['img'].shape[:2] == crop and r['rotate_angle'] != 0
        ratio = warp_ratio(r['img'], r['img2'], r['gt_flow_fw'],
                           r['gt_valid_fw'], margin=2)
        assert ratio < 0.5, (seed, ratio, ratio0)
        # negative control: the check notices a wrong sign of u
        wrong = r['gt_flow_fw'] * np.array([-1, 1], np.float32)
        bad = warp_ratio(r['img'], r['img2'], wrong, r['gt_valid_fw'],
                         margin=2)
        assert bad > ratio * 1.3, (seed, ratio, bad)
    assert len(flips) >= 2  # the seeds exercised flipped and unflipped
