"""End to end through mmengine's Runner: the quick-start EFC config on a tiny
synthetic world (generated on first use by the dataset), two training
iterations, validation with all four metrics, pair panels, then
``tools/test.py`` on the checkpoint."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join(REPO, 'configs', 'quickstart', 'psp_efc_tiny_synthetic_cpu.py')
BASELINE = osp.join(REPO, 'configs', 'quickstart',
                    'psp_baseline_tiny_synthetic_cpu.py')


def _tiny_options(root):
    world = dict(num_train_snippets=2, num_val_snippets=1, height=64,
                 width=128, seed=3)
    opts = []
    for loader in ('train', 'val', 'test'):
        prefix = f'{loader}_dataloader'
        opts.append(f'{prefix}.dataset.data_root={root}')
        opts.append(f'{prefix}.num_workers=0')
        opts.append(f'{prefix}.persistent_workers=False')
        for k, v in world.items():
            opts.append(f'{prefix}.dataset.world.{k}={v}')
    opts += ['train_dataloader.batch_size=2',
             'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
             'default_hooks.logger.interval=1',
             "train_dataloader.dataset.pipeline.3.crop_size=[64,64]",
             'model.data_preprocessor.size=[64,64]']
    return opts


def _run(args, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('PYTHONPATH', None)
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def world_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('world') / 'efc_synthetic_tiny')


@pytest.mark.slow
def test_quickstart_efc_train_val_test(tmp_path, world_root):
    wd = str(tmp_path / 'wd')
    rc, log = _run(['tools/train.py', CFG, '--work-dir', wd,
                    '--cfg-options', *_tiny_options(world_root)])
    assert rc == 0, log[-4000:]
    # the dataset generated the world on first use
    with open(osp.join(world_root, 'meta.json')) as f:
        assert json.load(f)['height'] == 64
    assert 'Iter(train) [2/2]' in log
    for key in ('loss_pm', 'loss_sm', 'loss_occ', 'loss_cons',
                'decode.loss_ce'):
        assert key in log
    # 1 val snippet of 30 frames -> 29 consecutive pairs, every metric
    assert 'Iter(val) [29/29]' in log
    for key in ('mIoU', 'EPE_all', 'EPE_noc', 'Fl_all', 'TC(flow=gt)'):
        assert key + ':' in log, key
    panels = os.listdir(osp.join(wd, 'vis_pairs', 'iter_2'))
    assert len(panels) == 4 and all(p.endswith('.png') for p in panels)

    rc, log = _run(['tools/test.py', CFG, osp.join(wd, 'iter_2.pth'),
                    '--work-dir', wd, '--cfg-options',
                    *_tiny_options(world_root)])
    assert rc == 0, log[-4000:]
    assert 'Iter(test) [29/29]' in log and 'EPE_all:' in log


@pytest.mark.slow
def test_quickstart_baseline_has_no_flow_metrics(tmp_path, world_root):
    rc, log = _run(['tools/train.py', BASELINE, '--work-dir',
                    str(tmp_path / 'wd'), '--cfg-options',
                    *_tiny_options(world_root)])
    assert rc == 0, log[-4000:]
    assert 'Iter(val) [29/29]' in log
    assert 'mIoU:' in log and 'TC(flow=gt):' in log
    assert 'EPE_all' not in log and 'loss_pm' not in log
