"""configs/debug/: each user config's smoke-test variant trains 2 iterations,
validates and saves a checkpoint with one short command
(``EFC_DATA_ROOT=ROOT python tools/train.py configs/debug/X_debug.py``).

Cityscapes families run on a tiny synthetic world (Cityscapes layout);
Dilation8 runs on a tiny CamVid (SegNet layout) written here. The debug
configs keep the user's full-size architecture, so these are the slow
tests of the suite (Dilation's VGG-16 has 134 M parameters)."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEBUG = osp.join(REPO, 'configs', 'debug')
CITYSCAPES_FAMILIES = ('psp_efc_cityscapes', 'deeplabv3plus_efc_cityscapes',
                       'dilation10_efc_cityscapes')


@pytest.fixture(scope='module')
def cityscapes_root(tmp_path_factory):
    """1 train + 1 val snippet of 30 frames at 64 x 128 (frame 19
    labelled), Cityscapes layout."""
    import efc_synthetic
    root = str(tmp_path_factory.mktemp('debug_world') / 'world')
    efc_synthetic.generate_synthetic_world(
        root, num_train_snippets=1, num_val_snippets=1, height=64,
        width=128, seed=5, workers=1)
    return root


@pytest.fixture(scope='module')
def camvid_root(tmp_path_factory):
    """SegNet-layout CamVid: one sequence of 3 labelled train frames 30
    video frames apart and 3 val frames, 120 x 90, labels 0..11 (11 void)."""
    root = tmp_path_factory.mktemp('debug_camvid')
    rng = np.random.default_rng(0)
    for split, frames in (('train', (30, 60, 90)), ('val', (2, 4, 6))):
        os.makedirs(root / split)
        os.makedirs(root / f'{split}annot')
        for f in frames:
            name = f'0001TP_{f:06d}.png'
            img = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
            lab = rng.integers(0, 12, (90, 120), dtype=np.uint8)
            cv2.imwrite(str(root / split / name), img)
            cv2.imwrite(str(root / f'{split}annot' / name), lab)
    return str(root)


def _train(config, data_root, work_dir):
    env = dict(os.environ, OMP_NUM_THREADS='1', EFC_DATA_ROOT=data_root)
    env.pop('PYTHONPATH', None)
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir', work_dir],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    return proc.returncode, proc.stdout + proc.stderr


def _check_run(rc, log, work_dir, num_val):
    assert rc == 0, log[-4000:]
    assert 'Iter(train) [2/2]' in log
    assert f'Iter(val) [{num_val}/{num_val}]' in log and 'mIoU' in log
    ckpt = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(ckpt)
    os.remove(ckpt)  # 0.5-1.2 GB (weights + SGD momentum)
    # no pretrained weights were looked for
    assert 'load model from' not in log


def test_debug_configs_keep_the_user_architecture():
    """Only data, crop, schedule and pretrained weights differ from the user
    config: the model dicts are equal apart from those keys."""
    pairs = [(f'{f}_debug.py', f'{f}.py') for f in CITYSCAPES_FAMILIES]
    pairs.append(('dilation8_efc_camvid_debug.py', 'dilation8_efc_camvid.py'))
    for debug, user in pairs:
        d = Config.fromfile(osp.join(DEBUG, debug)).model.to_dict()
        u = Config.fromfile(osp.join(REPO, 'configs', user)).model.to_dict()
        assert d.pop('pretrained') is None
        u.pop('pretrained', None)
        assert d['data_preprocessor'].pop('size') == (64, 64)
        u['data_preprocessor'].pop('size')
        assert d == u, debug


@pytest.mark.slow
@pytest.mark.parametrize('family', CITYSCAPES_FAMILIES)
def test_debug_config_trains_on_cityscapes_layout(family, cityscapes_root,
                                                  tmp_path):
    wd = str(tmp_path / 'wd')
    rc, log = _train(osp.join('configs', 'debug', f'{family}_debug.py'),
                     cityscapes_root, wd)
    _check_run(rc, log, wd, num_val=1)  # the world's 1 labelled val frame
    assert 'loss_pm' in log and 'decode.loss_ce' in log


@pytest.mark.slow
def test_dilation8_debug_config_trains_on_camvid_layout(camvid_root,
                                                        tmp_path):
    wd = str(tmp_path / 'wd')
    rc, log = _train(
        osp.join('configs', 'debug', 'dilation8_efc_camvid_debug.py'),
        camvid_root, wd)
    _check_run(rc, log, wd, num_val=2)  # the first 2 of 3 val frames
