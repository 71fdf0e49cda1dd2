"""The tools' CPU thread choice (efc_mm.utils.cpu_threads)."""
import os

import pytest
import torch

from efc_mm.utils import cpu_threads
from efc_mm.utils.cpu_threads import choose_cpu_threads, free_cpu_cores


@pytest.fixture(autouse=True)
def keep_threads(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    yield
    torch.set_num_threads(before)


def _machine(monkeypatch, cpus, load):
    monkeypatch.setattr(cpu_threads, '_usable_cpus', lambda: cpus)
    monkeypatch.setattr(os, 'getloadavg', lambda: (load, load, load))


@pytest.mark.parametrize('cpus,load,free', [
    (2, 0.1, 2), (2, 0.6, 1), (2, 4.3, 1), (8, 2.4, 6), (8, 0.0, 8)])
def test_free_cores_from_affinity_and_load(monkeypatch, cpus, load, free):
    _machine(monkeypatch, cpus, load)
    assert free_cpu_cores() == (free, cpus, load)


def test_cpu_run_takes_the_free_cores_at_most_the_default(monkeypatch):
    _machine(monkeypatch, 8, 6.2)  # 2 free
    torch.set_num_threads(4)  # PyTorch's default here
    msg = choose_cpu_threads(device='cpu')
    assert torch.get_num_threads() == 2
    assert 'CPU threads: 2' in msg and 'load average 6.20' in msg
    _machine(monkeypatch, 8, 0.0)  # 8 free, but not above the default
    torch.set_num_threads(4)
    choose_cpu_threads(device='cpu')
    assert torch.get_num_threads() == 4


def test_user_choices_win(monkeypatch):
    _machine(monkeypatch, 2, 5.0)
    msg = choose_cpu_threads(threads=2, device='cpu')
    assert torch.get_num_threads() == 2 and '(--threads)' in msg
    assert os.environ['OMP_NUM_THREADS'] == '2'
    torch.set_num_threads(2)
    monkeypatch.setenv('OMP_NUM_THREADS', '2')
    msg = choose_cpu_threads(device='cpu')  # the environment is kept
    assert torch.get_num_threads() == 2 and 'environment' in msg
    with pytest.raises(ValueError, match='--threads must be >= 1'):
        choose_cpu_threads(threads=0)


def test_gpu_and_distributed_runs_unchanged(monkeypatch):
    _machine(monkeypatch, 2, 5.0)
    torch.set_num_threads(2)
    assert 'CUDA run' in choose_cpu_threads(device='cuda')
    assert 'distributed' in choose_cpu_threads(device='cpu',
                                               distributed=True)
    assert torch.get_num_threads() == 2
