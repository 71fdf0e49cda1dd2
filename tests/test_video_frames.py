"""VideoFramesPairDataset on tiny generated clips (PNG / JPEG written into
tmp_path): layout, frame order, label matching, pair draws, consecutive mode,
metainfo, and one error listing every layout problem."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

import efc_mm  # noqa: F401
from efc_mm.datasets import DataLayoutError, VideoFramesPairDataset
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

init_default_scope('mmseg')

H, W = 12, 16
CLASSES = ['road', 'car', 'sky']
PALETTE = [[128, 64, 128], [0, 0, 142], [70, 130, 180]]
PIPELINE = [dict(type='LoadPairFromFile'), dict(type='LoadPairAnnotations'),
            dict(type='PackPairInputs')]


def frame_img(clip_seed, num, h=H, w=W):
    """Frame ``num`` of a clip: a constant colour that encodes the clip and
    the number, so a loaded image tells which file it came from."""
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = num
    img[..., 1] = clip_seed
    return img


def write_clip(root, clip, nums, name='{:06d}', ext='.png', labels=(),
               seed=0, label_name=None, label_dir='labels'):
    """Frames ``frames/<clip>/<name.format(n)><ext>`` and labels
    ``labels/<clip>/<stem>.png`` (label value = n % 3)."""
    d = osp.join(root, 'frames', clip)
    os.makedirs(d, exist_ok=True)
    for n in nums:
        cv2.imwrite(osp.join(d, name.format(n) + ext), frame_img(seed, n))
    for n in labels:
        ld = osp.join(root, label_dir, clip)
        os.makedirs(ld, exist_ok=True)
        stem = name.format(n) if label_name is None else label_name.format(n)
        cv2.imwrite(osp.join(ld, stem + '.png'),
                    np.full((H, W), n % 3, np.uint8))


def write_meta(root, classes=CLASSES, palette=PALETTE):
    with open(osp.join(root, 'meta.json'), 'w') as f:
        json.dump(dict(classes=classes, palette=palette), f)


def make_video_tree(root):
    """clip_a: 12 PNG frames 0..11, labels at 3 and 8; clip_b: 6 JPEG
    frames 0..5 named ``img_<n>.JPG``, no labels."""
    write_clip(root, 'clip_a', range(12), labels=(3, 8), seed=1)
    write_clip(root, 'clip_b', range(6), name='img_{}', ext='.JPG', seed=2)
    write_meta(root)
    return str(root)


def _ds(root, **kw):
    kw.setdefault('max_gap', 3)
    return VideoFramesPairDataset(data_root=str(root), **kw)


def test_train_draws_follow_k_m_and_gap(tmp_path):
    root = make_video_tree(tmp_path)
    ds = _ds(root, pairs_per_snippet=4, labelled_pairs=2)
    assert ds.metainfo['classes'] == tuple(CLASSES)
    assert ds.metainfo['palette'] == PALETTE
    assert len(ds) == 2 * 4          # two labelled frames, K = 4
    gaps, draws = set(), {}
    for _ in range(40):
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            f1, f2 = info['frame_ids']
            assert 0 <= f1 < f2 <= 11 and info['frame_gap'] == f2 - f1 <= 3
            gaps.add(f2 - f1)
            draws.setdefault(i, set()).add((f1, f2))
            lab = (3, 8)[i // 4]
            assert (lab in (f1, f2)) == (i % 4 < 2), (i, f1, f2)
            # every labelled frame of the pair carries its own label
            for f, key in ((f1, 'seg_map_path'), (f2, 'seg_map2_path')):
                if f in (3, 8):
                    assert info[key] == osp.join(
                        root, 'labels', 'clip_a', f'{f:06d}.png')
                else:
                    assert info[key] is None
            assert info['sequence'] == osp.join('frames', 'clip_a')
    assert gaps == {1, 2, 3}
    assert all(len(v) > 1 for v in draws.values())


def test_unlabelled_clips_and_snippet_range(tmp_path):
    root = make_video_tree(tmp_path)
    ds = _ds(root, pairs_per_snippet=2, labelled_pairs=1,
             with_unlabelled=True)
    assert len(ds) == (2 + 1) * 2
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    b = [x for x in infos if x['sequence'].endswith('clip_b')]
    assert len(b) == 2 and all(x['labelled'] == (False, False) for x in b)
    assert all(x['img_path'].endswith('.JPG') for x in b)
    # snippet_range limits the frames around the labelled one; the frames
    # outside every snippet become unlabelled runs with with_unlabelled
    ds = _ds(root, pairs_per_snippet=3, labelled_pairs=3, max_gap=1,
             snippet_range=(1, 1))
    for _ in range(20):
        for i in range(len(ds)):
            f1, f2 = ds.get_data_info(i)['frame_ids']
            lab = (3, 8)[i // 3]
            assert lab - 1 <= f1 < f2 <= lab + 1
    ds = _ds(root, pairs_per_snippet=1, max_gap=1, snippet_range=(1, 1),
             with_unlabelled=True)
    # clip_a free runs 0..1, 5..6, 10..11 and clip_b
    assert len(ds) == 2 + 3 + 1
    with pytest.raises(ValueError, match='snippet_range'):
        _ds(root, snippet_range=(0, 0))
    # a 3-frame snippet has no gap-1 pair without its labelled frame
    with pytest.raises(ValueError, match='no pair without its labelled'):
        _ds(root, pairs_per_snippet=2, labelled_pairs=1, max_gap=1,
            snippet_range=(1, 1)).get_data_info(1)


def test_frame_order_is_numeric_and_pipeline_loads_the_right_files(
        tmp_path):
    write_clip(tmp_path, 'c', (8, 9, 10, 11), name='f_{}', labels=(10, ))
    write_meta(tmp_path)
    ds = _ds(tmp_path, mode='consecutive', pipeline=PIPELINE)
    assert len(ds) == 3
    ids = [ds.get_data_info(i)['frame_ids'] for i in range(3)]
    assert ids == [(8, 9), (9, 10), (10, 11)]   # not '10' < '8'
    out = ds[1]
    s = out['data_samples']
    assert s.labelled == (False, True) and s.frame_gap == 1
    assert out['inputs'].shape == (2, 3, H, W)
    # the loaded pixels are those written for frames 9 and 10
    assert int(out['inputs'][0, 0, 0, 0]) == 9
    assert int(out['inputs'][1, 0, 0, 0]) == 10
    assert (s.frame2.gt_sem_seg.data == 10 % 3).all()
    assert (s.frame1.gt_sem_seg.data == 255).all()


def test_consecutive_mode_clips(tmp_path):
    root = make_video_tree(tmp_path)
    ds = _ds(root, test_mode=True)
    assert ds.mode == 'consecutive' and len(ds) == 11   # clip_a only
    ds = _ds(root, test_mode=True, with_unlabelled=True)
    assert len(ds) == 11 + 5
    # no labels at all: every clip (e.g. TC evaluation on raw footage)
    ds = _ds(root, test_mode=True, data_prefix=dict(img_path='frames'))
    assert len(ds) == 16


def test_custom_regex_and_label_suffix(tmp_path):
    write_clip(tmp_path, 'cam0', (5, 6, 7), name='cam0_t{:04d}_v2',
               labels=(6, ), label_name='cam0_t{:04d}_v2_label')
    ds = _ds(tmp_path, metainfo=dict(classes=CLASSES),
             frame_regex=r't(?P<frame>\d+)', seg_map_suffix='_label.png',
             pairs_per_snippet=2, labelled_pairs=2, max_gap=1)
    assert len(ds) == 2
    for _ in range(10):
        info = ds.get_data_info(0)
        assert 6 in info['frame_ids']
        assert info['frame_ids'][0] in (5, 6)
    # the default regex (last run of digits) would read 2 for every frame
    with pytest.raises(DataLayoutError, match='share the frame number 2'):
        _ds(tmp_path, metainfo=dict(classes=CLASSES),
            seg_map_suffix='_label.png')


def test_metainfo_from_config_or_json(tmp_path):
    write_clip(tmp_path, 'c', range(3), labels=(1, ))
    with pytest.raises(ValueError, match='meta.json'):
        _ds(tmp_path)                          # no classes anywhere
    ds = _ds(tmp_path, metainfo=dict(classes=('a', 'b', 'c', 'd')))
    assert ds.metainfo['classes'] == ('a', 'b', 'c', 'd')
    write_meta(tmp_path, palette=[[0, 0, 0]])   # 1 colour for 3 classes
    with pytest.raises(ValueError, match='palette'):
        _ds(tmp_path)
    write_meta(tmp_path, classes=[])
    with pytest.raises(ValueError, match='classes'):
        _ds(tmp_path)


def test_bad_layout_lists_every_problem_in_one_error(tmp_path):
    write_meta(tmp_path)
    write_clip(tmp_path, 'ok', range(4), labels=(1, ))
    write_clip(tmp_path, 'gappy', (0, 1, 2, 4, 5))           # 3 missing
    write_clip(tmp_path, 'single', (7, ))                     # one frame
    write_clip(tmp_path, 'mixed', range(3))
    cv2.imwrite(osp.join(tmp_path, 'frames', 'mixed', '000001.png'),
                frame_img(0, 1, h=H + 4))                     # other size
    cv2.imwrite(osp.join(tmp_path, 'frames', 'ok', 'cover.png'),
                frame_img(0, 0))                              # no number
    os.makedirs(osp.join(tmp_path, 'labels', 'ok'), exist_ok=True)
    cv2.imwrite(osp.join(tmp_path, 'labels', 'ok', '000009.png'),
                np.zeros((H, W), np.uint8))                   # no frame
    cv2.imwrite(osp.join(tmp_path, 'labels', 'ok', '000002.png'),
                np.zeros((H + 1, W), np.uint8))               # wrong size
    with pytest.raises(DataLayoutError) as e:
        _ds(tmp_path)
    msg = str(e.value)
    assert len(e.value.problems) == 6, msg
    for part in ('gappy: gaps in the frame numbering (step 1): 2 -> 4',
                 'single has a single frame', 'mixed: frames of mixed sizes',
                 osp.join('mixed', '000001.png') + f' is {W}x{H + 4}',
                 'cover.png: no frame number',
                 osp.join('labels', 'ok', '000009.png') + ' has no frame',
                 osp.join('labels', 'ok', '000002.png') + f' is {W}x{H + 1}'):
        assert part in msg, (part, msg)


def test_no_frames_and_no_labels_errors(tmp_path):
    os.makedirs(osp.join(tmp_path, 'frames', 'empty'))
    write_meta(tmp_path)
    with pytest.raises(DataLayoutError, match='no frames under'):
        _ds(tmp_path, data_prefix=dict(img_path='frames'))
    with pytest.raises(FileNotFoundError, match='label directory'):
        _ds(tmp_path)     # the default seg_map_path 'labels' is missing
    write_clip(tmp_path, 'c', range(3))
    with pytest.raises(ValueError, match='with_unlabelled=True'):
        _ds(tmp_path, data_prefix=dict(img_path='frames'))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        _ds(tmp_path, data_prefix=dict(img_path='nowhere'))


def test_built_from_the_base_config(tmp_path):
    root = make_video_tree(tmp_path)
    cfg = Config.fromfile(osp.join(osp.dirname(__file__), '..', 'configs',
                                   '_base_', 'datasets', 'video_frames.py'))
    for name in ('train_dataloader', 'val_dataloader'):
        dcfg = cfg[name].dataset.copy()
        dcfg.data_root = root
        ds = DATASETS.build(dcfg)
        assert isinstance(ds, VideoFramesPairDataset)
        out = ds[0]
        assert out['inputs'].shape[:2] == (2, 3)
