"""Shared fixtures and helpers.

Real data (never copied into the repository) is read from ``../shared/data``
beside the repository, or from the folder the environment variable
``EFC_SHARED_DATA`` names. It holds ``samples/`` (KITTI 2015 pair 000000,
Middlebury RubberWhale, MPI Sintel alley, Middlebury 2014 Motorcycle, a
Cityscapes sample, six CamVid 15 Hz frames, a short clip) and ``camvid/``
(CamVid as prepared for SegNet: train/, trainannot/, val/, valannot/); its
README lists each file's origin and licence. Every test that needs it skips
when it is absent, saying so (:func:`shared_path`, :func:`missing_data`).
"""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: the real-data folder: $EFC_SHARED_DATA, else ../shared/data
SHARED_DATA = osp.abspath(os.environ.get('EFC_SHARED_DATA') or osp.join(
    REPO_ROOT, '..', 'shared', 'data'))
SAMPLES = osp.join(SHARED_DATA, 'samples')
#: how to get the real data (the end of every skip reason)
SHARED_DATA_HINT = (
    'put the real-data folder (samples/ and camvid/, see the docstring of '
    'tests/conftest.py) at ../shared/data beside the repository, or set '
    'EFC_SHARED_DATA=/path/to/it')


def missing_data(path) -> str:
    """The skip reason of a test whose real data ``path`` is absent."""
    return f'real data not available: {path} is absent; {SHARED_DATA_HINT}'

# keep the 2-core CI machine responsive when tests spawn subprocesses
os.environ.setdefault('OMP_NUM_THREADS', '2')


def shared_path(*parts):
    """Path under the real-data folder (:data:`SHARED_DATA`), or skip the
    test with a reason that says how to get it."""
    path = osp.join(SHARED_DATA, *parts)
    if not osp.exists(path):
        pytest.skip(missing_data(path))
    return path


def load_script(*parts):
    """Import a script of the repository as a module (its ``main`` is not
    run), e.g. ``load_script('tools', 'misc', 'fresh_checkpoint.py')``."""
    path = osp.join(REPO_ROOT, *parts)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(parts[-1])[0], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def installed_mim():
    """mim next to this interpreter, only if efc_mm is installed (not just
    importable from the source tree) with its .mim folder."""
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    if not osp.isfile(mim):
        return None
    code = ('import pkg_resources,os;d=pkg_resources.get_distribution('
            '"efc_mm");print(os.path.join(d.location,"efc_mm",".mim","tools",'
            '"train.py"))')
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    proc = subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                          cwd='/', env=env, capture_output=True, text=True)
    path = proc.stdout.strip() if proc.returncode == 0 else ''
    return mim if path and osp.isfile(path) else None


def fresh_checkpoint(config, path, *args):
    """Write ``tools/misc/fresh_checkpoint.py``'s checkpoint of ``config``
    (random weights, ``args`` e.g. ``'--seed', '1'``) to ``path``."""
    load_script('tools', 'misc', 'fresh_checkpoint.py').main(
        [config, str(path), *args])
    return str(path)


def tiny_world(root, **kwargs):
    """Generate a synthetic world of one val snippet under ``root`` (32x64,
    4 frames, frame 1 labelled unless ``kwargs`` say otherwise); returns
    ``root``."""
    from efc_synthetic import generate_synthetic_world
    opts = dict(num_train_snippets=0, num_val_snippets=1, height=32,
                width=64, frames_per_snippet=4, labelled_frame=1, workers=0)
    opts.update(kwargs)
    generate_synthetic_world(str(root), **opts)
    return str(root)


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
