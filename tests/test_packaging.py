"""Packaging: the wheel ships both packages and mim's files; the model
index that ``mim list`` / ``mim search`` read is valid and complete."""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import installed_mim  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _installed_mim():
    mim = installed_mim()
    if mim is None:
        if os.environ.get('CI'):
            pytest.fail('CI must install efc_mm as the README says; mim '
                        'cannot find efc_mm/.mim in site-packages')
        pytest.skip('efc_mm is not pip-installed (regular install) here')
    return mim


def test_model_index_lists_every_user_config():
    """Every config a user starts from (configs/*.py, configs/quickstart)
    is in the model index, with an existing file that mmengine parses."""
    from mmengine.config import Config
    from modelindex.load_model_index import load
    index = load(osp.join(REPO, 'model-index.yml'))
    configs = {m.config for m in index.models}
    assert {m.in_collection for m in index.models} == {'EFC'}
    expected = {osp.relpath(p, REPO) for p in
                glob.glob(osp.join(REPO, 'configs', '*.py')) +
                glob.glob(osp.join(REPO, 'configs', 'quickstart', '*.py'))}
    assert configs == expected, (configs ^ expected)
    for rel in sorted(configs):
        Config.fromfile(osp.join(REPO, rel))  # parses, bases resolve


@pytest.mark.slow
def test_wheel_ships_packages_and_mim_files(tmp_path):
    """A regular (non-editable) build: efc_mm, efc_synthetic and
    efc_mm/.mim/{tools,configs,model-index.yml} are in the wheel."""
    src = tmp_path / 'src'
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        '.git', '.venv', 'venv', 'data', 'work_dirs', 'build', 'dist',
        '*.egg-info', '__pycache__', '.mim', '.pytest_cache', 'outputs'))
    env = dict(os.environ, PIP_NO_INPUT='1')
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', str(src), '--no-deps',
         '--no-build-isolation', '-q', '-w', str(tmp_path / 'whl')],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel, ) = glob.glob(str(tmp_path / 'whl' / '*.whl'))
    names = set(zipfile.ZipFile(wheel).namelist())
    for need in ('efc_mm/__init__.py', 'efc_synthetic/__init__.py',
                 'efc_synthetic/world.py', 'efc_mm/testing/__init__.py',
                 'efc_mm/testing/models.py', 'efc_mm/.mim/model-index.yml',
                 'efc_mm/.mim/configs/metafile.yaml',
                 'efc_mm/.mim/tools/train.py'):
        assert need in names, need
    top = [n for n in names if n.endswith('top_level.txt')]
    text = zipfile.ZipFile(wheel).read(top[0]).decode().split()
    assert text[0] == 'efc_mm' and 'efc_synthetic' in text  # mim reads [0]


def test_mim_list_shows_efc_mm():
    """``mim list`` finds efc_mm through efc_mm/.mim/model-index.yml of a
    regular install (an editable install has no efc_mm folder in
    site-packages, so mim cannot see it there)."""
    mim = _installed_mim()  # skips or, in CI, fails without a regular install
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    proc = subprocess.run([mim, 'list'], cwd='/', env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert any(line.split()[:1] in (['efc-mm'], ['efc_mm'])
               for line in proc.stdout.splitlines()), proc.stdout


def test_installed_testing_helpers_find_the_config_bases(tmp_path):
    """efc_mm.testing (used by tests and benches) builds its tiny models
    from the installed package's .mim/configs, outside any checkout."""
    _installed_mim()  # skips or, in CI, fails without a regular install
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('PYTHONPATH', None)
    code = ('import efc_mm.testing as t; p = t.model_bases_dir(); '
            'cfg = t.tiny_model_cfg("psp"); '
            'assert cfg["backbone"]["depth"] == 18; print(p)')
    proc = subprocess.run([sys.executable, '-c', code], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    path = proc.stdout.strip().splitlines()[-1]
    assert osp.join('efc_mm', '.mim', 'configs') in path, path
