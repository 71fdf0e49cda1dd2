"""The compat layer: mmcv.ops stand-in, checkpoints on torch>=2.6, CPU DDP,
and when each is applied (``import efc_mm`` vs ``register_all_modules``)."""
import glob
import importlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import efc_mm  # noqa: F401  (installs the mmcv.ops stand-in only)
from efc_mm import compat
from efc_mm.ops import Correlation

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_mmseg_and_mmflow_models_import_on_mmcv_lite():
    import mmflow.models  # noqa: F401
    import mmseg.models  # noqa: F401
    import mmcv.ops
    from mmflow.models.builder import OPERATORS
    if compat.MMCV_OPS_IS_STANDIN:
        assert getattr(mmcv.ops, 'EFC_MM_STANDIN', False)
        assert OPERATORS.get('Correlation') is Correlation


def test_mmflow_corr_block_runs_on_standin():
    """mmflow's own CorrBlock builds our Correlation and runs it."""
    from mmengine.registry import DefaultScope, init_default_scope
    from mmflow.models.utils.correlation_block import CorrBlock
    init_default_scope('mmseg')  # as other tests leave it; mmflow runs in
    with DefaultScope.overwrite_default_scope('mmflow'):  # its own scope
        block = CorrBlock(
            corr_cfg=dict(type='Correlation', max_displacement=2),
            scaled=True)
    f1, f2 = torch.randn(2, 1, 4, 6, 7).unbind(0)
    out = block(f1, f2)
    assert out.shape == (1, 25, 6, 7)
    # centre channel (zero displacement) = leaky_relu(mean_c f1 * f2)
    expected = F.leaky_relu((f1 * f2).sum(1) / 4, 0.1)
    torch.testing.assert_close(out[:, 12], expected)


def test_point_sample_is_real():
    from mmcv.ops import point_sample
    feat = torch.arange(16.).view(1, 1, 4, 4)
    # normalised (x, y) of pixel centres (1, 2) and (3, 0)
    pts = torch.tensor([[[1.5 / 4, 2.5 / 4], [3.5 / 4, 0.5 / 4]]])
    out = point_sample(feat, pts, align_corners=False)
    assert out.shape == (1, 1, 2)
    torch.testing.assert_close(out[0, 0], torch.tensor([2 * 4 + 1., 3.]))


@pytest.mark.skipif(not compat.MMCV_OPS_IS_STANDIN,
                    reason='full mmcv is installed: the stand-in is not used')
def test_missing_ops_raise_clear_error():
    from mmcv.ops import DeformConv2d, sigmoid_focal_loss
    with pytest.raises(RuntimeError, match='full mmcv'):
        sigmoid_focal_loss(torch.zeros(1), torch.zeros(1))
    with pytest.raises(RuntimeError, match='DeformConv2d.*full mmcv'):
        DeformConv2d(1, 1, 3)


def test_standin_steps_aside_when_real_ops_import(monkeypatch):
    """With full mmcv (mmcv.ops imports), nothing is replaced."""
    real_import = importlib.import_module
    fake = type(sys)('mmcv.ops')

    def fake_import(name, *args, **kwargs):
        if name == 'mmcv.ops':
            return fake
        return real_import(name, *args, **kwargs)

    saved = sys.modules.pop('mmcv.ops')
    monkeypatch.setattr(importlib, 'import_module', fake_import)
    try:
        assert compat.install_mmcv_ops_standin() is False
        assert 'mmcv.ops' not in sys.modules
    finally:
        sys.modules['mmcv.ops'] = saved


def _mmengine_checkpoint(tmp_path):
    """A checkpoint as mmengine's runner writes it (HistoryBuffer and numpy
    objects pickled), and the model whose weights it holds."""
    from mmengine.logging import MessageHub
    from mmengine.runner.checkpoint import save_checkpoint
    model = torch.nn.Conv2d(1, 2, 3)
    hub = MessageHub.get_instance('efc_compat_test')
    hub.update_scalar('train/loss', 0.5)
    ckpt = {'state_dict': model.state_dict(),
            'message_hub': hub.state_dict(),
            'meta': {'iter': 7, 'np_value': np.float64(1.25)}}
    path = tmp_path / 'iter_7.pth'
    save_checkpoint(ckpt, str(path))
    return str(path), model


def test_trusted_checkpoint_loading_is_scoped(tmp_path):
    """The context manager reads an mmengine checkpoint (which torch>=2.6
    refuses with weights_only=True) and puts the previous loader back."""
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import (CheckpointLoader,
                                            _load_checkpoint)
    path, _ = _mmengine_checkpoint(tmp_path)
    with pytest.raises(Exception):
        torch.load(path, weights_only=True)  # the upstream failure
    before = CheckpointLoader._schemes['']
    with compat.trusted_checkpoint_loading():
        loaded = _load_checkpoint(path, map_location='cpu')
    assert CheckpointLoader._schemes[''] is before
    assert loaded['meta']['iter'] == 7
    assert isinstance(loaded['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)


def test_checkpoint_round_trip_after_runtime_patches(tmp_path):
    """mmengine checkpoints pickle HistoryBuffer; after the runtime patches
    mmengine's own loader reads them back intact."""
    from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint
    path, model = _mmengine_checkpoint(tmp_path)
    applied = compat.apply_runtime_patches()
    assert applied['checkpoint_weights_only'] is True
    assert _load_checkpoint(path, map_location='cpu')['meta']['iter'] == 7
    other = torch.nn.Conv2d(1, 2, 3)
    load_checkpoint(other, path, map_location='cpu')
    torch.testing.assert_close(other.weight, model.weight)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(str(tmp_path / 'nope.pth'))


IMPORT_IS_QUIET = textwrap.dedent('''
    import torch
    from mmengine.dist import utils as du
    from mmengine.runner import checkpoint as ck
    from mmengine.runner import runner as rr

    def state():
        return dict(local_scheme=ck.CheckpointLoader._schemes[''],
                    init_dist=du._init_dist_pytorch,
                    wrap_model=rr.Runner.wrap_model,
                    setup_env=rr.Runner.setup_env)

    before = state()
    import efc_mm  # noqa: F401
    import efc_mm.models, efc_mm.apis, efc_mm.datasets  # noqa: F401
    after = state()
    changed = [k for k in before if after[k] is not before[k]]
    assert not changed, f'import efc_mm changed {changed}'

    from efc_mm.utils import register_all_modules
    register_all_modules()
    patched = state()
    assert patched['local_scheme'] is not before['local_scheme']
    from mmengine.registry import DefaultScope
    assert DefaultScope.get_current_instance().scope_name == 'mmseg'
    if not torch.cuda.is_available():  # the CPU-DDP patch is CPU-only
        for k in ('init_dist', 'wrap_model', 'setup_env'):
            assert patched[k] is not before[k], k
    print('OK')
''')


def test_import_patches_nothing_register_all_modules_does():
    """``import efc_mm`` leaves mmengine's checkpoint loader and distributed
    start-up untouched; ``register_all_modules()`` patches them (a fresh
    process, so that no other test has patched anything yet)."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, '-c', IMPORT_IS_QUIET], env=env,
                          cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and 'OK' in proc.stdout, \
        proc.stdout[-2000:] + proc.stderr[-3000:]


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only patch')
def test_cpu_distributed_patch(tmp_path):
    """After the runtime patches: init_dist refuses non-torch back ends on
    CPU, and a runner built from a config asking for nccl logs (and uses)
    gloo, in the runtime environment and in the config dump."""
    from mmengine.dist import utils as dist_utils
    from mmengine.model import BaseModel
    from mmengine.runner import Runner
    compat.apply_runtime_patches()
    with pytest.raises(ValueError, match='needs CUDA'):
        dist_utils._init_dist_pytorch('nccl', init_backend='deepspeed')

    class Toy(BaseModel):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 1, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return self.conv(inputs)

    env_cfg = dict(dist_cfg=dict(backend='nccl'))
    runner = Runner(model=Toy(), work_dir=str(tmp_path), env_cfg=env_cfg,
                    default_scope='mmseg',
                    cfg=dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert runner.cfg.env_cfg.dist_cfg.backend == 'gloo'
    logs = glob.glob(str(tmp_path / '*' / '*.log'))
    assert len(logs) == 1, logs
    with open(logs[0]) as f:
        log = f.read()
    assert "dist_cfg: {'backend': 'gloo'}" in log, log[-3000:]
    assert 'nccl' not in log


# ------------------------------------------------------------ warnings
def _python_stderr(*args):
    """stderr of ``python -W default *args`` run in the repository."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('PYTHONWARNINGS', None)
    env.pop('PYTHONPATH', None)
    proc = subprocess.run([sys.executable, '-W', 'default', *args], cwd=REPO,
                          env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stderr


def test_import_efc_mm_prints_no_warning():
    """mmcv-lite's MultiScaleDeformableAttention warning and torch.jit's
    deprecation (via mmengine.optim) are the stack's, expected here."""
    assert _python_stderr('-c', 'import efc_mm') == ''


def test_import_warning_filters_are_restored():
    """Only efc_mm's own imports are quiet: after ``import efc_mm`` none of
    its filters is left, every filter from before is still there, and the
    same warning raised elsewhere still shows."""
    stderr = _python_stderr('-c', textwrap.dedent('''
        import warnings
        before = list(warnings.filters)
        import efc_mm
        from efc_mm.compat import IMPORT_WARNINGS
        after = list(warnings.filters)
        assert all(f in after for f in before), 'a filter was dropped'
        ours = {(m, c) for m, c, _ in IMPORT_WARNINGS}
        left = [f for f in after if f[0] == 'ignore' and f[1] is not None
                and (f[1].pattern, f[2]) in ours]
        assert not left, left
        warnings.warn('Fail to import ``MultiScaleDeformableAttention`` '
                      'from ``mmcv.ops.multi_scale_deform_attn``, again')
        '''))
    assert 'MultiScaleDeformableAttention' in stderr and 'again' in stderr


def test_train_tool_starts_without_warnings():
    assert _python_stderr(os.path.join('tools', 'train.py'), '--help') == ''


def test_config_parsing_after_runtime_patches_prints_no_pkg_resources():
    """mmengine's is_installed reloads pkg_resources for every ``mmseg::``
    base; after apply_runtime_patches its deprecation warning is ignored
    there (setuptools is pinned < 81, where pkg_resources still exists)."""
    cfg = os.path.join('configs', 'quickstart',
                       'psp_efc_tiny_synthetic_cpu.py')
    stderr = _python_stderr('-c', textwrap.dedent(f'''
        from efc_mm.utils import register_all_modules
        register_all_modules(init_default_scope=False)
        from mmengine.config import Config
        from mmengine.utils import is_installed
        Config.fromfile({cfg!r})
        assert is_installed('mmsegmentation') and is_installed('mmseg')
        assert not is_installed('no_such_package_efc_mm')
        '''))
    assert 'pkg_resources' not in stderr, stderr
    assert stderr == '', stderr


def test_pkg_resources_patch_is_idempotent():
    from mmengine.config import config as config_mod
    from mmengine.utils import package_utils
    assert compat.patch_pkg_resources_warning()
    first = package_utils.is_installed
    assert compat.patch_pkg_resources_warning()
    assert package_utils.is_installed is first is config_mod.is_installed
    assert first._efc_mm_patched and first('mmengine')
