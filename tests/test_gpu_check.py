"""bench/gpu_check.sh and the GPU path of bench/train_step.py, as a CPU dry
run (no GPU is lent to this project's CI): every step of the script runs at
tiny size and writes its results."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.mark.slow
def test_gpu_check_dry_run_on_cpu(tmp_path):
    out = tmp_path / 'gc'
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1')
    env.pop('PYTHONPATH', None)
    proc = subprocess.run(['bash', 'bench/gpu_check.sh', '--device', 'cpu',
                           '--out', str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ts = json.loads((out / 'train_step.json').read_text())['results']
    assert set(ts) == {'plain', 'seg2', 'joint'}
    assert all(r['step_s'] > 0 and r['device'] == 'cpu' for r in ts.values())
    assert set(ts['joint']['breakdown']) == {
        'shared encoder (2B frames)', 'seg heads (2B frames)',
        'flow decoder (fw+bw)', 'EFC losses, warps, rest'}
    assert ts['joint']['breakdown']['flow decoder (fw+bw)'] > 0
    amp = json.loads((out / 'train_step_amp.json').read_text())
    assert amp['args']['amp'] and amp['results']['joint']['amp']
    corr = json.loads((out / 'correlation.json').read_text())
    assert corr['efc_mm']['forward_s'] > 0
    summary = (out / 'summary.txt').read_text()
    assert 'quick start: 2 iterations' in summary
    assert 'TC(flow=gt)' in summary and 'EPE_all' in summary
    assert (out / 'quickstart' / 'iter_2.pth').is_file()


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is present')
def test_train_step_cuda_without_gpu_is_a_clear_error():
    proc = subprocess.run([sys.executable, 'bench/train_step.py', '--device',
                           'cuda'], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert 'no CUDA device' in proc.stderr and '--device cpu' in proc.stderr
