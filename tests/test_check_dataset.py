"""The opt-in full data scan (``verify=True``, tools/misc/check_dataset.py):
tiny generated layouts with several planted faults, all listed in one
error."""
import importlib.util
import os
import os.path as osp

import cv2
import numpy as np
import pytest

import efc_mm  # noqa: F401
from efc_mm.datasets import (CamVidDataset, DataVerificationError,
                             verify_dataset)
from mmengine.registry import init_default_scope
from test_datasets import F, H, LAB, W, _ds, make_city_tree
from test_video_frames import make_video_tree

init_default_scope('mmseg')

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'check_dataset', osp.join(ROOT, 'tools', 'misc', 'check_dataset.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _plant_city_faults(root):
    """Four faults the build-time checks do not see; returns the files."""
    img = osp.join(root, 'leftImg8bit_sequence/train/synth0')
    gt = osp.join(root, 'gtFine/train/synth0')
    corrupt = osp.join(img, 'synth0_000000_000002_leftImg8bit.png')
    with open(corrupt, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n not an image')
    bigger = osp.join(img, 'synth0_000001_000004_leftImg8bit.png')
    cv2.imwrite(bigger, np.zeros((H + 2, W, 3), np.uint8))
    out_of_range = osp.join(gt, f'synth0_000000_{LAB:06d}'
                            '_gtFine_labelTrainIds.png')
    seg = np.zeros((H, W), np.uint8)
    seg[1, 1], seg[2, 2] = 42, 255       # 255 = ignore is fine
    cv2.imwrite(out_of_range, seg)
    small_label = osp.join(gt, f'synth0_000001_{LAB:06d}'
                           '_gtFine_labelTrainIds.png')
    cv2.imwrite(small_label, np.zeros((H, W - 3), np.uint8))
    return corrupt, bigger, out_of_range, small_label


def test_city_verify_lists_every_fault_in_one_error(tmp_path):
    root = make_city_tree(str(tmp_path), flows=False)
    _ds(root, verify=True)                        # clean: no error
    corrupt, bigger, out_of_range, small_label = _plant_city_faults(root)
    ds = _ds(root)                # without the scan: builds, fails late
    assert len(ds) > 0
    with pytest.raises(DataVerificationError) as e:
        _ds(root, verify=True)
    msg = str(e.value)
    assert len(e.value.problems) == 4, msg
    assert f'{corrupt} is unreadable' in msg
    assert f'image {bigger} is {W}x{H + 2} (WxH) but the other files' in msg
    assert out_of_range in msg and '[42]' in msg and '19 classes' in msg
    assert f'label {small_label} is {W - 3}x{H}' in msg
    # consecutive mode scans the same frames
    with pytest.raises(DataVerificationError) as e2:
        _ds(root, verify=True, test_mode=True)
    assert len(e2.value.problems) == 4


def test_video_verify_finds_truncated_frame_and_bad_label(tmp_path):
    root = make_video_tree(tmp_path)
    frame = osp.join(root, 'frames', 'clip_a', '000005.png')
    data = open(frame, 'rb').read()
    with open(frame, 'wb') as f:        # header intact, pixel data cut
        f.write(data[:len(data) // 2])
    label = osp.join(root, 'labels', 'clip_a', '000008.png')
    cv2.imwrite(label, np.full((12, 16), 3, np.uint8))   # 3 classes: 0..2
    from efc_mm.datasets import VideoFramesPairDataset
    VideoFramesPairDataset(data_root=root)    # the layout check passes
    with pytest.raises(DataVerificationError) as e:
        VideoFramesPairDataset(data_root=root, verify=True)
    assert len(e.value.problems) == 2, str(e.value)
    assert frame in str(e.value) and label in str(e.value)
    assert '[3] outside the 3 classes' in str(e.value)


def test_verify_single_frame_mmseg_dataset(tmp_path):
    for d in ('img', 'ann'):
        os.makedirs(osp.join(tmp_path, d))
    for i in range(3):
        cv2.imwrite(osp.join(tmp_path, 'img', f'0001TP_{i:06d}.png'),
                    np.zeros((8, 8, 3), np.uint8))
        seg = np.full((8, 8), 11, np.uint8)      # void 11 -> 255: fine
        seg[0, 0] = 12 if i == 1 else 0
        cv2.imwrite(osp.join(tmp_path, 'ann', f'0001TP_{i:06d}.png'), seg)
    ds = CamVidDataset(data_root=str(tmp_path),
                       data_prefix=dict(img_path='img', seg_map_path='ann'))
    with pytest.raises(DataVerificationError) as e:
        verify_dataset(ds)
    assert len(e.value.problems) == 1
    assert '0001TP_000001.png holds values [12]' in str(e.value)


def _write_cfg(tmp_path, root, extra=''):
    cfg = osp.join(tmp_path, 'cfg.py')
    with open(cfg, 'w') as f:
        f.write(
            "default_scope = 'mmseg'\n"
            'train_dataloader = dict(dataset=dict(\n'
            "    type='CityscapesSequencePairDataset',\n"
            f'    data_root={root!r}, frames_per_snippet={F},\n'
            f'    labelled_index={LAB}, max_gap=2, pipeline=[]))\n' + extra)
    return cfg


def test_check_dataset_tool(tmp_path, capsys):
    root = make_city_tree(osp.join(tmp_path, 'data'), flows=False)
    cfg = _write_cfg(str(tmp_path), root)
    tool = _tool()
    assert tool.main([cfg]) == 0
    assert 'no problems found' in capsys.readouterr().out
    files = _plant_city_faults(root)
    assert tool.main([cfg, '--split', 'train']) == 1
    err = capsys.readouterr().err
    assert '4 problem(s)' in err
    for p in files:
        assert p in err
    # a build-time layout error is reported, not raised
    os.remove(osp.join(root, 'leftImg8bit_sequence/train/synth0',
                       f'synth0_000000_{LAB + 1:06d}_leftImg8bit.png'))
    assert tool.main([cfg]) == 1
    assert 'could not be built' in capsys.readouterr().err
    # an unknown split names the ones there are
    assert tool.main([cfg, '--split', 'val']) == 2
    assert 'splits in this config: train' in capsys.readouterr().err


def test_kitti_verify(tmp_path):
    from efc_mm.datasets import KITTIFlowPairDataset
    d = tmp_path / 'image_2'
    os.makedirs(d)
    for scene, n in (('000000', 3), ('000001', 2)):
        for i in range(n):
            cv2.imwrite(str(d / f'{scene}_{i:02d}.png'),
                        np.zeros((8, 10, 3), np.uint8))
    cv2.imwrite(str(d / '000000_02.png'), np.zeros((8, 12, 3), np.uint8))
    with open(d / '000001_01.png', 'wb') as f:
        f.write(b'garbage')
    kw = dict(data_root=str(tmp_path), data_prefix=dict(img_path='image_2'),
              mode='train')
    assert len(KITTIFlowPairDataset(**kw)) == 3
    with pytest.raises(DataVerificationError) as e:
        KITTIFlowPairDataset(verify=True, **kw)
    assert len(e.value.problems) == 2, str(e.value)
    assert '000000_02.png is 12x8 (WxH)' in str(e.value)
    assert '000001_01.png is unreadable' in str(e.value)
