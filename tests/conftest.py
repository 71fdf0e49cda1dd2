"""Shared fixtures. Real data lives in ../shared/data (never copied here)."""
import os
import os.path as osp

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATA = osp.abspath(osp.join(REPO_ROOT, '..', 'shared', 'data'))
SAMPLES = osp.join(SHARED_DATA, 'samples')

# keep the 2-core CI machine responsive when tests spawn subprocesses
os.environ.setdefault('OMP_NUM_THREADS', '2')


def shared_path(*parts):
    """Path under ../shared/data, or skip the test with a clear reason."""
    path = osp.join(SHARED_DATA, *parts)
    if not osp.exists(path):
        pytest.skip(f'real data not available: {path} is absent '
                    '(../shared/data must sit beside the repository)')
    return path


@pytest.fixture
def samples_dir():
    return shared_path('samples')


@pytest.fixture(autouse=True)
def _restore_grad_mode():
    """Give every test autograd as it was: a tool's ``main()`` run in-process
    (e.g. bench/propagation.py calls ``torch.set_grad_enabled(False)``)
    must not switch gradients off for the tests that run after it."""
    enabled = torch.is_grad_enabled()
    yield
    torch.set_grad_enabled(enabled)
