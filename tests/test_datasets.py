"""Pair datasets on tiny fixture trees (the layout of docs/design.md) and on
the real data (``../shared/data`` or ``$EFC_SHARED_DATA``, see
tests/conftest.py; skipped when absent)."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

import efc_mm  # noqa: F401
from efc_mm.datasets import (CamVidDataset, CamVidVideoDataset,
                             CityscapesSequencePairDataset,
                             KITTIFlowPairDataset)
from efc_mm.fileio import read_flow_kitti, write_flow_kitti
from efc_mm.structures import PairDataSample
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

init_default_scope('mmseg')   # pipelines name mmseg-scope transforms

from conftest import SHARED_DATA as DATA, missing_data  # noqa: E402

SAMPLES = osp.join(DATA, 'samples')
CAMVID = osp.join(DATA, 'camvid')

PAIR_PIPELINE = [
    dict(type='LoadPairFromFile'),
    dict(type='LoadPairAnnotations'),
    dict(type='PackPairInputs'),
]
TRAIN_PIPELINE = [
    dict(type='LoadPairFromFile'),
    dict(type='LoadPairAnnotations'),
    dict(type='PairRandomResize', scale=None, ratio_range=(1.0, 1.5)),
    dict(type='PairRandomCrop', crop_size=(12, 16), cat_max_ratio=0.9),
    dict(type='PairRandomRotate', prob=0.5, degree=10),
    dict(type='PairRandomFlip', prob=0.5),
    dict(type='PairPhotoMetricDistortion'),
    dict(type='PackPairInputs'),
]

H, W, F, LAB = 16, 24, 10, 6   # fixture: 10-frame snippets, frame 6 labelled


def _texture(seed=0, h=H, w=W + F + 2):
    rng = np.random.default_rng(seed)
    return (rng.random((h, w, 3)) * 255).astype(np.uint8)


def make_city_tree(root, split='train', city='synth0', seqs=(0, 1),
                   unlabelled_seqs=(), flows=True):
    """A Cityscapes-layout world: frame f of a snippet shows the texture
    shifted right by f px, so flow_fw = (+1, 0) and flow_bw = (-1, 0); the
    label of frame f is ``(seq + f) % 19`` on the top row, 0 elsewhere."""
    d = dict(img=f'leftImg8bit_sequence/{split}/{city}',
             gt=f'gtFine/{split}/{city}',
             gts=f'gtFine_sequence/{split}/{city}',
             occ=f'flow_occ/{split}/{city}', noc=f'flow_noc/{split}/{city}',
             ocm=f'occlusion/{split}/{city}')
    for v in d.values():
        os.makedirs(osp.join(root, v), exist_ok=True)
    for s in list(seqs) + list(unlabelled_seqs):
        tex = _texture(s)
        for f in range(F):
            stem = f'{city}_{s:06d}_{f:06d}'
            cv2.imwrite(osp.join(root, d['img'], stem + '_leftImg8bit.png'),
                        tex[:, F - f:F - f + W])
            seg = np.zeros((H, W), np.uint8)
            seg[0] = (s + f) % 19
            if s in seqs:
                cv2.imwrite(osp.join(root, d['gts'],
                                     stem + '_gtFine_labelTrainIds.png'), seg)
                if f == LAB:
                    cv2.imwrite(osp.join(root, d['gt'],
                                         stem + '_gtFine_labelTrainIds.png'),
                                seg)
            if not flows:
                continue
            ones = np.ones((H, W, 2), np.float32)
            occ_fw = np.zeros((H, W)), np.zeros((H, W))
            occ_fw[0][:, -1] = 1   # the last column leaves the view
            occ_fw[1][:, 0] = 1
            for name, flow, occ in (('fw', ones * [1, 0], occ_fw[0]),
                                    ('bw', ones * [-1, 0], occ_fw[1])):
                write_flow_kitti(osp.join(root, d['occ'],
                                          f'{stem}_flow_{name}.png'), flow)
                write_flow_kitti(osp.join(root, d['noc'],
                                          f'{stem}_flow_{name}.png'), flow,
                                 1 - occ)
                cv2.imwrite(osp.join(root, d['ocm'], f'{stem}_occ_{name}.png'),
                            (occ * 255).astype(np.uint8))
    return root


def _ds(root, **kw):
    kw.setdefault('frames_per_snippet', F)
    kw.setdefault('labelled_index', LAB)
    kw.setdefault('max_gap', 3)
    return CityscapesSequencePairDataset(data_root=str(root), **kw)


# ------------------------------------------------------ Cityscapes sequence
def test_city_train_pairs(tmp_path):
    root = make_city_tree(str(tmp_path), flows=False)
    ds = _ds(root, pairs_per_snippet=4, labelled_pairs=2)
    assert len(ds) == 2 * 4
    gaps, draws = set(), {}
    for rep in range(30):
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            f1, f2 = info['frame_ids']
            assert f1 < f2 and 1 <= info['frame_gap'] == f2 - f1 <= 3
            assert 0 <= f1 and f2 < F
            gaps.add(info['frame_gap'])
            draws.setdefault(i, set()).add((f1, f2))
            has = LAB in (f1, f2)
            assert has == (i % 4 < 2), (i, f1, f2)
            if has:
                assert info['labelled'] == (f1 == LAB, f2 == LAB)
                lab_key = 'seg_map_path' if f1 == LAB else 'seg_map2_path'
                other = 'seg_map2_path' if f1 == LAB else 'seg_map_path'
                assert info[lab_key].endswith(
                    f'_{LAB:06d}_gtFine_labelTrainIds.png')
                assert 'gtFine/' in info[lab_key]
                assert info[other] is None
            else:
                assert info['labelled'] == (False, False)
            assert info['sequence'] in ('synth0_000000', 'synth0_000001')
    assert gaps == {1, 2, 3}
    # the draws change from call to call, the length does not
    assert all(len(v) > 1 for v in draws.values())
    assert len(ds) == 8
    with pytest.raises(IndexError):
        ds.get_data_info(8)


def test_city_draws_reproducible_under_a_seed(tmp_path):
    root = make_city_tree(str(tmp_path), flows=False)

    def draws(seed):
        ds = _ds(root, pairs_per_snippet=4, labelled_pairs=2)
        np.random.seed(seed)
        return [ds.get_data_info(i)['frame_ids'] for i in range(8)
                for _ in range(3)]

    assert draws(0) == draws(0)
    assert draws(0) != draws(1)


def test_city_train_pipeline_packs_label_with_its_frame(tmp_path):
    root = make_city_tree(str(tmp_path), flows=False)
    ds = _ds(root, pairs_per_snippet=2, labelled_pairs=1,
             pipeline=PAIR_PIPELINE)
    for _ in range(6):
        out = ds[0]
        s = out['data_samples']
        assert isinstance(s, PairDataSample)
        assert out['inputs'].shape == (2, 3, H, W)
        lab = [i for i, b in enumerate(s.labelled) if b]
        assert len(lab) == 1
        fr = s.frames[lab[0]]
        other = s.frames[1 - lab[0]]
        assert (fr.gt_sem_seg.data[0, 0] == (0 + LAB) % 19).all()
        assert (fr.gt_sem_seg.data[0, 1:] == 0).all()
        assert (other.gt_sem_seg.data == 255).all()
        # the labelled frame's image is frame LAB of snippet 0
        img = cv2.imread(fr.img_path)
        np.testing.assert_array_equal(
            img, _texture(0)[:, F - LAB:F - LAB + W])
        ids = [int(f.img_path.split('_')[-2]) for f in s.frames]
        assert s.frame_gap == ids[1] - ids[0] >= 1
    # full augmentation pipeline runs and keeps the contract
    ds = _ds(root, pipeline=TRAIN_PIPELINE)
    np.random.seed(0)
    for i in range(len(ds)):
        out = ds[i]
        assert out['inputs'].dtype == torch.uint8
        assert out['inputs'].shape == (2, 3, 12, 16)
        for fr in out['data_samples'].frames:
            assert fr.gt_sem_seg.data.shape == (1, 12, 16)


def test_city_single_pair_and_unlabelled(tmp_path):
    root = make_city_tree(str(tmp_path), seqs=(0, ), unlabelled_seqs=(5, ),
                          flows=False)
    for kw in (dict(pairs_per_snippet=1), ):
        ds = _ds(root, **kw)   # K = 1 caps M (default 5) at 1
        assert len(ds) == 1
        for _ in range(10):
            assert LAB in ds.get_data_info(0)['frame_ids']
    ds = _ds(root, pairs_per_snippet=3, labelled_pairs=1,
             with_unlabelled=True)
    assert len(ds) == 2 * 3
    seqs = {ds.get_data_info(i)['sequence']: ds.get_data_info(i)['labelled']
            for i in range(len(ds))}
    assert seqs['synth0_000005'] == (False, False)
    # an extra unlabelled directory (e.g. train_extra)
    make_city_tree(str(tmp_path), split='extra', city='other', seqs=(),
                   unlabelled_seqs=(1, 2), flows=False)
    ds = _ds(root, pairs_per_snippet=2, labelled_pairs=1,
             with_unlabelled=True,
             data_prefix=dict(img_path='leftImg8bit_sequence/train',
                              seg_map_path='gtFine/train',
                              unlabelled_img_path='leftImg8bit_sequence/extra'
                              ))
    assert len(ds) == 4 * 2
    ds_no = _ds(root, pairs_per_snippet=2, labelled_pairs=1)
    assert len(ds_no) == 2


def test_city_with_unlabelled_but_none_found_is_an_error(tmp_path):
    """+UD that would add nothing must not silently train like the row
    without unlabelled data."""
    root = make_city_tree(str(tmp_path), seqs=(0, ), flows=False)
    with pytest.raises(ValueError, match='no unlabelled snippet'):
        _ds(root, pairs_per_snippet=2, with_unlabelled=True)


def test_city_consecutive_mode_loads_flow_occ_and_labels(tmp_path):
    root = make_city_tree(str(tmp_path))
    prefix = dict(img_path='leftImg8bit_sequence/train',
                  seg_map_path='gtFine/train',
                  seq_seg_map_path='gtFine_sequence/train',
                  flow_occ_path='flow_occ/train',
                  flow_noc_path='flow_noc/train')
    ds = _ds(root, test_mode=True, data_prefix=prefix,
             pipeline=PAIR_PIPELINE)
    assert ds.mode == 'consecutive' and len(ds) == 2 * (F - 1)
    out = ds[3]
    s = out['data_samples']
    assert s.frame_gap == 1 and s.labelled == (True, True)
    f1 = 3
    assert (s.frame1.gt_sem_seg.data[0, 0] == f1 % 19).all()
    assert (s.frame2.gt_sem_seg.data[0, 0] == (f1 + 1) % 19).all()
    assert torch.allclose(s.gt_flow_fw.data[0], torch.ones(H, W))
    assert torch.allclose(s.gt_flow_bw.data[0], -torch.ones(H, W))
    assert (s.gt_valid_fw.data == 1).all()
    assert (s.gt_occ_fw.data[0, :, -1] == 1).all()
    assert s.gt_occ_fw.data[0, :, :-1].sum() == 0
    assert (s.gt_occ_bw.data[0, :, 0] == 1).all()
    # frame 2 warped by the loaded forward flow reproduces frame 1
    i1, i2 = out['inputs'][0].float(), out['inputs'][1].float()
    assert torch.equal(i1[:, :, :-1], i2[:, :, 1:])
    # the occlusion PNGs give the same occlusion
    prefix2 = dict(prefix, occ_path='occlusion/train')
    del prefix2['flow_noc_path']
    s2 = _ds(root, test_mode=True, data_prefix=prefix2,
             pipeline=PAIR_PIPELINE)[3]['data_samples']
    assert torch.equal(s2.gt_occ_fw.data, s.gt_occ_fw.data)
    # without gtFine_sequence only the labelled frame has a label
    prefix3 = dict(img_path='leftImg8bit_sequence/train',
                   seg_map_path='gtFine/train')
    ds3 = _ds(root, mode='consecutive', data_prefix=prefix3)
    labs = [ds3.get_data_info(i)['labelled'] for i in range(F - 1)]
    assert labs[LAB - 1] == (False, True) and labs[LAB] == (True, False)
    assert sum(map(sum, labs)) == 2


def test_city_errors_name_the_file(tmp_path):
    root = make_city_tree(str(tmp_path), flows=False)
    img_dir = osp.join(root, 'leftImg8bit_sequence/train/synth0')
    # a neighbour of the labelled frame is missing
    missing = osp.join(img_dir, f'synth0_000001_{LAB + 1:06d}_leftImg8bit.png')
    os.remove(missing)
    with pytest.raises(FileNotFoundError, match=osp.basename(missing)):
        _ds(root)
    make_city_tree(str(tmp_path), flows=False)
    # a frame that vanished after the dataset was built
    ds = _ds(root, pairs_per_snippet=1, max_gap=1, pipeline=PAIR_PIPELINE)
    frame = osp.join(img_dir, f'synth0_000000_{LAB:06d}_leftImg8bit.png')
    os.rename(frame, frame + '.bak')
    with pytest.raises(FileNotFoundError, match=osp.basename(frame)):
        ds[0]
    os.rename(frame + '.bak', frame)
    # a corrupt frame
    nb = [osp.join(img_dir, f'synth0_000000_{LAB + d:06d}_leftImg8bit.png')
          for d in (-1, 1)]
    saved = [open(p, 'rb').read() for p in nb]
    for p in nb:
        with open(p, 'wb') as f:
            f.write(b'\x89PNG garbage')
    with pytest.raises(ValueError, match='unreadable'):
        ds[0]
    # a pair of different sizes
    for p in nb:
        cv2.imwrite(p, np.zeros((H + 2, W, 3), np.uint8))
    with pytest.raises(ValueError, match='differ in size'):
        ds[0]
    for p, b in zip(nb, saved):
        with open(p, 'wb') as f:
            f.write(b)
    # a label outside the 19 classes
    lab = osp.join(root, 'gtFine/train/synth0',
                   f'synth0_000000_{LAB:06d}_gtFine_labelTrainIds.png')
    seg = np.zeros((H, W), np.uint8)
    seg[3, 3] = 42
    cv2.imwrite(lab, seg)
    with pytest.raises(ValueError, match=r'gtFine_labelTrainIds.*\[42\]'):
        ds[0]
    with pytest.raises(ValueError, match='labelled_pairs'):
        _ds(root, pairs_per_snippet=2, labelled_pairs=-1)
    with pytest.raises(FileNotFoundError, match='nowhere'):
        _ds(root, data_prefix=dict(img_path='nowhere'))


def test_city_registered_and_built_from_config(tmp_path):
    root = make_city_tree(str(tmp_path), flows=False)
    ds = DATASETS.build(dict(
        type='CityscapesSequencePairDataset', data_root=root,
        frames_per_snippet=F, labelled_index=LAB, max_gap=2,
        pairs_per_snippet=10, labelled_pairs=5, pipeline=PAIR_PIPELINE))
    assert len(ds) == 20
    assert ds.metainfo['classes'][0] == 'road'


def test_city_real_cityscapes_frame(tmp_path):
    """The real Cityscapes sample (labelTrainIds) as a 3-frame snippet of
    one repeated frame: checks names, label values and loading."""
    src = osp.join(SAMPLES, 'cityscapes_pseudo')
    if not osp.isdir(src):
        pytest.skip(missing_data(src))
    imgs = [osp.join(dp, f) for dp, _, fs in os.walk(src) for f in fs
            if f.endswith('_leftImg8bit.png')]
    gts = [osp.join(dp, f) for dp, _, fs in os.walk(src) for f in fs
           if f.endswith('_gtFine_labelTrainIds.png')]
    assert imgs and gts
    name = osp.basename(gts[0])[:-len('_gtFine_labelTrainIds.png')]
    city, seq, frame = name.rsplit('_', 2)
    frame = int(frame)
    for sub in ('leftImg8bit_sequence/val/' + city, 'gtFine/val/' + city):
        os.makedirs(tmp_path / sub)
    for f in (frame - 1, frame, frame + 1):
        os.symlink(imgs[0], tmp_path / 'leftImg8bit_sequence/val' / city /
                   f'{city}_{seq}_{f:06d}_leftImg8bit.png')
    os.symlink(gts[0], tmp_path / 'gtFine/val' / city / osp.basename(gts[0]))
    ds = CityscapesSequencePairDataset(
        data_root=str(tmp_path), frames_per_snippet=3, labelled_index=1,
        max_gap=1, pairs_per_snippet=1, labelled_pairs=1,
        data_prefix=dict(img_path='leftImg8bit_sequence/val',
                         seg_map_path='gtFine/val'),
        pipeline=PAIR_PIPELINE)
    s = ds[0]['data_samples']
    seg = cv2.imread(gts[0], cv2.IMREAD_UNCHANGED)
    lab = s.frame1 if s.labelled[0] else s.frame2
    np.testing.assert_array_equal(lab.gt_sem_seg.data[0].numpy(), seg)


@pytest.fixture(scope='module')
def synthetic_world(tmp_path_factory):
    """A tiny world of the generator (1 + 1 snippets of 6 frames, 64x32)."""
    from efc_synthetic import generate_synthetic_world
    root = str(tmp_path_factory.mktemp('synth') / 'world')
    # workers=1: a fork pool inside pytest (torch loaded) can hang
    generate_synthetic_world(root, num_train_snippets=1, num_val_snippets=1,
                             height=32, width=64, frames_per_snippet=6,
                             labelled_frame=3, seed=0, workers=1)
    return root


def test_city_on_synthetic_world(synthetic_world):
    root = synthetic_world
    ds = CityscapesSequencePairDataset(
        data_root=root, frames_per_snippet=6, labelled_index=3, max_gap=2,
        pipeline=PAIR_PIPELINE, verify=True)   # the generated files pass
    assert len(ds) == 10
    s = ds[0]['data_samples']
    assert any(s.labelled)
    ds = CityscapesSequencePairDataset(
        data_root=root, frames_per_snippet=6, labelled_index=3,
        test_mode=True, pipeline=PAIR_PIPELINE,
        data_prefix=dict(img_path='leftImg8bit_sequence/val',
                         seg_map_path='gtFine/val',
                         seq_seg_map_path='gtFine_sequence/val',
                         flow_occ_path='flow_occ/val',
                         flow_noc_path='flow_noc/val'))
    assert len(ds) == 5
    out = ds[0]
    s = out['data_samples']
    assert s.labelled == (True, True)
    for k in ('gt_flow_fw', 'gt_flow_bw', 'gt_occ_fw', 'gt_occ_bw'):
        assert k in s
    # warp check: frame 2 by the gt forward flow reproduces frame 1
    i1 = out['inputs'][0].permute(1, 2, 0).numpy().astype(np.float32)
    i2 = out['inputs'][1].permute(1, 2, 0).numpy().astype(np.float32)
    flow = s.gt_flow_fw.data.permute(1, 2, 0).numpy()
    h, w = flow.shape[:2]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32),
                         np.arange(h, dtype=np.float32))
    warped = cv2.remap(i2, xx + flow[..., 0], yy + flow[..., 1],
                       cv2.INTER_LINEAR)
    m = (s.gt_occ_fw.data[0].numpy() < 0.5)
    err = np.abs(i1 - warped)[m].mean()
    err0 = np.abs(i1 - i2)[m].mean()
    # the wrong direction (frame 1 -> 2 read as backward) is worse
    bw = s.gt_flow_bw.data.permute(1, 2, 0).numpy()
    wrong = cv2.remap(i2, xx + bw[..., 0], yy + bw[..., 1], cv2.INTER_LINEAR)
    err_wrong = np.abs(i1 - wrong)[m].mean()
    assert err < 0.7 * err0 and err < 0.7 * err_wrong, (err, err0, err_wrong)


# ----------------------------------------------------------------- CamVid
def _need(path):
    if not osp.isdir(path):
        pytest.skip(missing_data(path))


def test_camvid_val_sequence_pairs():
    _need(CAMVID)
    ds = CamVidVideoDataset(data_root=CAMVID,
                            data_prefix=dict(img_path='val',
                                             seg_map_path='valannot'),
                            pipeline=PAIR_PIPELINE)
    assert len(ds) == 101
    for i in (0, 50, 100):
        for _ in range(3):
            info = ds.get_data_info(i)
            assert info['sequence'] == '0016E5'
            assert info['frame_gap'] == 2 and info['labelled'] == (True, True)
            assert i in (0, 100) or info['frame_ids'][0] in (
                7959 + 2 * (i - 1), 7959 + 2 * i)
    s = ds[10]['data_samples']
    for fr in s.frames:
        v = set(torch.unique(fr.gt_sem_seg.data).tolist())
        assert v <= set(range(11)) | {255} and len(v) > 3
    # consecutive (TC evaluation): 100 pairs, in frame order
    ds = CamVidVideoDataset(data_root=CAMVID, test_mode=True,
                            data_prefix=dict(img_path='val',
                                             seg_map_path='valannot'))
    assert len(ds) == 100
    ids = [ds.get_data_info(i)['frame_ids'] for i in range(100)]
    assert ids[0] == (7959, 7961) and ids[-1] == (8157, 8159)


def test_camvid_train_split_sequences_and_single_frames():
    _need(CAMVID)
    ds = CamVidVideoDataset(data_root=CAMVID)
    assert len(ds) == 367
    seqs = {}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        seqs.setdefault(info['sequence'], set()).add(info['frame_gap'])
        assert osp.basename(info['img_path']).split('_')[0] == \
            info['sequence'] == osp.basename(info['img2_path']).split('_')[0]
    assert set(seqs) == {'0001TP', '0006R0', '0016E5'}
    assert 30 in seqs['0001TP'] and 30 in seqs['0006R0']
    single = CamVidDataset(data_root=CAMVID, data_prefix=dict(
        img_path='val', seg_map_path='valannot'), pipeline=[
            dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')])
    assert len(single) == 101
    raw = cv2.imread(single.get_data_info(0)['seg_map_path'],
                     cv2.IMREAD_UNCHANGED)
    seg = single[0]['data_samples'].gt_sem_seg.data[0].numpy()
    assert (raw == 11).any()
    np.testing.assert_array_equal(seg == 255, raw == 11)
    assert seg.max() == 255 and seg[seg != 255].max() <= 10


def _camvid_snippet_tree(tmp_path):
    src = osp.join(SAMPLES, 'camvid_15hz_snippet')
    _need(src)
    names = sorted(os.listdir(osp.join(src, 'img')))
    return src, names


def test_camvid_raw_frames(tmp_path):
    src, names = _camvid_snippet_tree(tmp_path)
    lab = names[2]                                   # 0016E5_07963.png
    seq, frame = lab[:-4].split('_')
    frame = int(frame)
    for d in ('lab', 'labannot', 'raw'):
        os.makedirs(tmp_path / d)
    os.symlink(osp.join(src, 'img', lab), tmp_path / 'lab' / lab)
    os.symlink(osp.join(src, 'label', lab), tmp_path / 'labannot' / lab)
    prefix = dict(img_path='lab', seg_map_path='labannot')
    # the real 15 Hz snippet as "raw" frames: odd frames only, so the
    # neighbour at gap 1 (an even frame) is missing and is named
    with pytest.raises(FileNotFoundError, match=f'{seq}_{frame - 1:05d}'):
        CamVidVideoDataset(data_root=str(tmp_path), data_prefix=prefix,
                           raw_frames_dir=osp.join(src, 'img'), max_gap=1)
    # a complete raw tree (30 Hz frames as symlinks to the nearest frame)
    for f in range(frame - 3, frame + 4):
        near = min(names, key=lambda n: abs(int(n[:-4].split('_')[1]) - f))
        os.symlink(osp.join(src, 'img', near),
                   tmp_path / 'raw' / f'{seq}_{f:05d}.png')
    ds = CamVidVideoDataset(data_root=str(tmp_path), data_prefix=prefix,
                            raw_frames_dir='raw', max_gap=3,
                            pairs_per_frame=2, pipeline=PAIR_PIPELINE)
    assert len(ds) == 2
    seen = set()
    for _ in range(40):
        info = ds.get_data_info(0)
        f1, f2 = info['frame_ids']
        assert frame in (f1, f2) and 1 <= f2 - f1 <= 3
        assert info['labelled'] == (f1 == frame, f2 == frame)
        seen.add(f2 - f1 if f1 == frame else -(f2 - f1))
    assert seen == {-3, -2, -1, 1, 2, 3}
    s = ds[0]['data_samples']
    lab_fr = s.frame1 if s.labelled[0] else s.frame2
    oth = s.frame2 if s.labelled[0] else s.frame1
    assert (oth.gt_sem_seg.data == 255).all()
    assert (lab_fr.gt_sem_seg.data != 255).float().mean() > 0.5


def test_camvid_errors(tmp_path):
    src, names = _camvid_snippet_tree(tmp_path)
    os.makedirs(tmp_path / 'i')
    os.makedirs(tmp_path / 'l')
    os.symlink(osp.join(src, 'img', names[0]), tmp_path / 'i' / names[0])
    with pytest.raises(FileNotFoundError, match=names[0]):
        CamVidVideoDataset(data_prefix=dict(img_path=str(tmp_path / 'i'),
                                            seg_map_path=str(tmp_path / 'l')))
    os.symlink(osp.join(src, 'label', names[0]), tmp_path / 'l' / names[0])
    with pytest.raises(ValueError, match='no neighbour'):
        CamVidVideoDataset(data_prefix=dict(img_path=str(tmp_path / 'i'),
                                            seg_map_path=str(tmp_path / 'l')))


# ------------------------------------------------------------------ KITTI
def _kitti_tree(tmp_path):
    src = osp.join(SAMPLES, 'kitti15_000000')
    _need(src)
    tr = tmp_path / 'training'
    for d in ('image_2', 'flow_occ', 'flow_noc'):
        os.makedirs(tr / d)
    for f in ('000000_10.png', '000000_11.png'):
        os.symlink(osp.join(src, f), tr / 'image_2' / f)
    gt = osp.join(src, 'flow_gt_000000_10.png')
    os.symlink(gt, tr / 'flow_occ' / '000000_10.png')
    # a flow_noc: the occ GT minus a block (pretend occluded there)
    flow, valid = read_flow_kitti(gt)
    noc_valid = valid.copy()
    noc_valid[200:260, 600:700] = 0
    write_flow_kitti(str(tr / 'flow_noc' / '000000_10.png'), flow, noc_valid)
    return src, flow, valid, noc_valid


def test_kitti_eval_pair(tmp_path):
    src, flow, valid, noc_valid = _kitti_tree(tmp_path)
    ds = KITTIFlowPairDataset(data_root=str(tmp_path), test_mode=True,
                              pipeline=PAIR_PIPELINE)
    assert ds.mode == 'eval' and len(ds) == 1
    out = ds[0]
    s = out['data_samples']
    assert out['inputs'].shape == (2, 3, 375, 1242)
    np.testing.assert_allclose(s.gt_flow_fw.data.permute(1, 2, 0).numpy(),
                               flow)
    np.testing.assert_array_equal(s.gt_valid_fw.data[0].numpy(), valid)
    occ = s.gt_occ_fw.data[0].numpy()
    np.testing.assert_array_equal(occ, (valid > 0) & (noc_valid == 0))
    assert occ.sum() > 0
    # noc mask of the contract = flow_noc's valid
    np.testing.assert_array_equal(
        s.gt_valid_fw.data[0].numpy() * (1 - occ), noc_valid)
    assert s.labelled == (False, False)
    assert (s.frame1.gt_sem_seg.data == 255).all()
    assert 'gt_flow_bw' not in s
    os.remove(tmp_path / 'training/image_2/000000_11.png')
    with pytest.raises(FileNotFoundError, match='000000_11.png'):
        KITTIFlowPairDataset(data_root=str(tmp_path), test_mode=True)


def test_kitti_unsupervised_train_pairs_exclude(tmp_path):
    src = osp.join(SAMPLES, 'kitti15_000000')
    _need(src)
    for split, scenes in (('training', ('000000', '000001')),
                          ('testing', ('000000', ))):
        d = tmp_path / split / 'image_2'
        os.makedirs(d)
        for sc in scenes:
            for i in (9, 10, 11, 12):
                os.symlink(osp.join(src, f'000000_{10 + (i % 2):02d}.png'),
                           d / f'{sc}_{i:02d}.png')
    ds = KITTIFlowPairDataset(
        data_root=str(tmp_path), data_prefix=dict(img_path='training/image_2'),
        pipeline=PAIR_PIPELINE)
    assert ds.mode == 'train' and len(ds) == 2 * 3
    ex = tmp_path / 'exclude.txt'
    ex.write_text('000000\n')
    ds = KITTIFlowPairDataset(
        data_root=str(tmp_path), data_prefix=dict(img_path='training/image_2'),
        exclude_scenes='exclude.txt', frame_gaps=(1, 2))
    assert len(ds) == 3 + 2
    assert {ds.get_data_info(i)['sequence'] for i in range(5)} == {'000001'}
    assert sorted(ds.get_data_info(i)['frame_ids'] for i in range(5)) == [
        (9, 10), (9, 11), (10, 11), (10, 12), (11, 12)]
    with pytest.raises(ValueError, match='no training pairs'):
        KITTIFlowPairDataset(
            data_root=str(tmp_path),
            data_prefix=dict(img_path='training/image_2'),
            exclude_scenes=['000000', '000001'])
    ds = KITTIFlowPairDataset(data_root=str(tmp_path),
                              data_prefix=dict(img_path='testing/image_2'),
                              pipeline=PAIR_PIPELINE)
    s = ds[0]['data_samples']
    assert s.frame_gap == 1 and s.sequence == '000000'
    assert 'gt_flow_fw' not in s


# ---------------------------------------------------------------- configs
CFG_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                   'configs', '_base_', 'datasets')


def _cfg(name):
    from mmengine.config import Config
    return Config.fromfile(osp.join(CFG_DIR, name))


def _build(loader_cfg, **override):
    cfg = loader_cfg['dataset'].to_dict()
    cfg.update(override)
    return DATASETS.build(cfg)


def _check_registered(cfg):
    from mmseg.registry import METRICS, TRANSFORMS
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'pair_test_dataloader'):
        if key in cfg:
            assert DATASETS.get(cfg[key].dataset.type) is not None
            for t in cfg[key].dataset.pipeline:
                assert TRANSFORMS.get(t.type) is not None, t.type
    for key in ('val_evaluator', 'test_evaluator', 'pair_test_evaluator'):
        if key in cfg:
            evs = cfg[key] if isinstance(cfg[key], list) else [cfg[key]]
            for e in evs:
                assert METRICS.get(e.type) is not None, e.type


def test_config_cityscapes_sequence(tmp_path):
    cfg = _cfg('cityscapes_sequence.py')
    _check_registered(cfg)
    tr = cfg.train_dataloader
    assert tr.batch_size == 2 and tr.dataset.pairs_per_snippet == 10
    assert tr.dataset.labelled_pairs == 5 and tr.dataset.max_gap == 5
    assert cfg.val_dataloader.dataset.type == 'CityscapesDataset'
    assert cfg.val_evaluator.type == 'IoUMetric'
    crop = [t for t in tr.dataset.pipeline if t.type == 'PairRandomCrop']
    assert tuple(crop[0].crop_size) == (713, 713)
    root = make_city_tree(str(tmp_path), flows=False)
    ds = _build(tr, data_root=root, frames_per_snippet=F,
                labelled_index=LAB, max_gap=3)
    assert len(ds) == 20
    np.random.seed(0)
    out = ds[0]
    assert out['inputs'].shape[:2] == (2, 3)
    assert max(out['inputs'].shape[2:]) <= 713


def test_config_synthetic_world(synthetic_world):
    cfg = _cfg('synthetic_world.py')
    _check_registered(cfg)
    names = [e.type for e in cfg.test_evaluator]
    assert 'EFCFlowMetric' in names and 'TemporalConsistencyMetric' in names
    assert cfg.train_dataloader.dataset.world['height'] == 256
    # world=None: use the fixture world as it is (no regeneration)
    kw = dict(data_root=synthetic_world, frames_per_snippet=6,
              labelled_index=3, world=None)
    ds = _build(cfg.train_dataloader, max_gap=2, **kw)
    assert len(ds) == 10
    np.random.seed(1)
    assert ds[3]['inputs'].shape[:2] == (2, 3)
    pair = _build(cfg.test_dataloader, **kw)
    assert len(pair) == 5
    s = pair[2]['data_samples']
    assert s.labelled == (True, True) and 'gt_flow_fw' in s
    val = _build(cfg.val_dataloader, data_root=synthetic_world, world=None)
    assert len(val) == 1
    assert val[0]['data_samples'].gt_sem_seg.data.shape[1:] == (32, 64)


def test_config_camvid_video():
    _need(CAMVID)
    cfg = _cfg('camvid_video.py')
    _check_registered(cfg)
    tr = _build(cfg.train_dataloader, data_root=CAMVID)
    assert len(tr) == 367 and len(tr.metainfo['classes']) == 11
    np.random.seed(0)
    out = tr[0]
    assert out['inputs'].shape[:2] == (2, 3)
    assert out['inputs'].shape[2] <= 360 and out['inputs'].shape[3] <= 480
    val = _build(cfg.val_dataloader, data_root=CAMVID)
    assert len(val) == 101
    seg = val[0]['data_samples'].gt_sem_seg.data
    assert set(torch.unique(seg).tolist()) <= set(range(11)) | {255}
    pair = _build(cfg.pair_test_dataloader, data_root=CAMVID)
    assert len(pair) == 100 and pair[0]['data_samples'].frame_gap == 2


def test_config_kitti_flow(tmp_path):
    src = osp.join(SAMPLES, 'kitti15_000000')
    _need(src)
    cfg = _cfg('kitti_flow.py')
    _check_registered(cfg)
    tr = tmp_path / 'data_scene_flow' / 'training'
    mv = tmp_path / 'data_scene_flow_multiview' / 'testing' / 'image_2'
    for d in (tr / 'image_2', tr / 'flow_occ', tr / 'flow_noc', mv):
        os.makedirs(d)
    for f in ('000000_10.png', '000000_11.png'):
        os.symlink(osp.join(src, f), tr / 'image_2' / f)
    for d in ('flow_occ', 'flow_noc'):
        os.symlink(osp.join(src, 'flow_gt_000000_10.png'),
                   tr / d / '000000_10.png')
    for i in range(3):
        os.symlink(osp.join(src, f'000000_{10 + i % 2}.png'),
                   mv / f'000007_{i:02d}.png')
    ev = _build(cfg.test_dataloader, data_root=str(tmp_path))
    s = ev[0]['data_samples']
    assert 'gt_flow_fw' in s and s.gt_occ_fw.data.sum() == 0
    train = _build(cfg.train_dataloader, data_root=str(tmp_path))
    assert len(train) == 2
    np.random.seed(0)
    assert train[0]['inputs'].shape == (2, 3, 320, 896)
