"""The four commands of docs/own_video.md ("Train on your own video"), run on
a tiny clip: an mp4 rendered from the synthetic world and three labelled
PNGs -> frames -> labels in place -> 2 training iterations with validation
-> a demo video. Then analyze_logs on the run's real json log."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = 'configs/own_video/psp_efc_tiny_own_video_cpu.py'
LABELLED = (1, 4, 6)


def _run(args, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('PYTHONPATH', None)
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (args, proc.stdout[-3000:] +
                                  proc.stderr[-3000:])
    return proc.stdout + proc.stderr


def to_three_classes(train_ids):
    """Cityscapes train ids -> 0 road (road, sidewalk), 1 sky, 2 other."""
    out = np.full(train_ids.shape, 2, np.uint8)
    out[(train_ids == 0) | (train_ids == 1)] = 0
    out[train_ids == 10] = 1
    out[train_ids == 255] = 255
    return out


@pytest.fixture
def user_files(tmp_path):
    """What a user starts from: drive.mp4 and my_labels/ (three PNGs named
    as the frames video_to_frames will write, and meta.json)."""
    try:
        from efc_synthetic import render_snippet
    except ImportError:
        from efc_mm.datasets.synthetic import render_snippet
    snip = render_snippet(4, height=64, width=96, num_frames=8)
    video = str(tmp_path / 'drive.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 10,
                             (96, 64))
    for img in snip['images']:
        writer.write(img)
    writer.release()
    labels = tmp_path / 'my_labels'
    labels.mkdir()
    for k in LABELLED:
        cv2.imwrite(str(labels / f'drive_{k:06d}.png'),
                    to_three_classes(snip['labels'][k]))
    (labels / 'meta.json').write_text(json.dumps(dict(
        classes=['road', 'sky', 'other'],
        palette=[[128, 64, 128], [70, 130, 180], [200, 200, 200]])))
    return video, str(labels)


@pytest.mark.slow
def test_four_commands_from_mp4_to_demo_video(tmp_path, user_files):
    video, my_labels = user_files
    root = tmp_path / 'my_video'
    wd = tmp_path / 'work_dir'
    # 1. the video -> one clip folder of frames
    _run(['tools/dataset_converters/video_to_frames.py', video,
          str(root / 'frames'), '--no-progress'])
    assert len(os.listdir(root / 'frames' / 'drive')) == 8
    # 2. the labels (and meta.json) into place
    (root / 'labels' / 'drive').mkdir(parents=True)
    for n in os.listdir(my_labels):
        dst = root / ('meta.json' if n == 'meta.json' else
                      osp.join('labels', 'drive', n))
        shutil.copy(osp.join(my_labels, n), dst)
    # 3. train (2 iterations here instead of 400) with validation
    opts = [f'{p}_dataloader.dataset.data_root={root}'
            for p in ('train', 'val', 'test')]
    opts += ['train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False',
             'val_dataloader.num_workers=0',
             'val_dataloader.persistent_workers=False',
             'test_dataloader.num_workers=0',
             'test_dataloader.persistent_workers=False',
             'train_dataloader.batch_size=2', 'train_cfg.max_iters=2',
             'train_cfg.val_interval=2', 'default_hooks.logger.interval=1',
             'train_dataloader.dataset.pipeline.3.crop_size=[64,64]',
             'model.data_preprocessor.size=[64,64]']
    log = _run(['tools/train.py', CFG, '--work-dir', str(wd),
                '--cfg-options', *opts])
    assert 'Iter(train) [2/2]' in log
    for key in ('loss_pm', 'loss_cons', 'decode.loss_ce'):
        assert key in log, key
    # 7 consecutive pairs of the labelled clip, mIoU over the 3 classes
    assert 'Iter(val) [7/7]' in log
    assert 'mIoU:' in log and 'TC(flow=EFC-pred):' in log
    ckpt = wd / 'iter_2.pth'
    assert ckpt.is_file()
    # 4. the demo video
    out = tmp_path / 'drive_efc.mp4'
    _run(['demo/video_demo.py', video, CFG, str(ckpt), '--out-video',
          str(out), '--no-progress'])
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert n == 8

    # the run's real log through analyze_logs: every EFC loss and metric
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'analyze_logs', osp.join(REPO, 'tools', 'analysis_tools',
                                 'analyze_logs.py'))
    al = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(al)
    data = al.load_json_log(al.find_json_log(str(wd)))
    keys = al.default_keys([data])
    # (loss_cons too: its warm-up schedule is fractions of the run, 30 % ->
    # 50 %, so it is on from the second of the two iterations)
    for key in ('loss_pm', 'loss_sm', 'loss_occ', 'loss_cons',
                'decode.loss_ce', 'mIoU'):
        assert key in keys, (key, keys)
    png = str(tmp_path / 'curves.png')
    al.main(['plot_curve', str(wd), '--out', png])
    assert cv2.imread(png) is not None
