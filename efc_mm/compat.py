"""Patches for upstream bugs of the OpenMMLab stack (mmcv-lite, torch >= 2.6,
CPU-only machines). Nothing else lives here.

Each patch covers one upstream bug, names it, and steps aside when it is not
needed (full mmcv with compiled ops, a CUDA machine, an mmengine that passes
``weights_only`` itself). All are idempotent.

What is patched, and when
-------------------------
* :func:`install_mmcv_ops_standin` -- applied by ``import efc_mm``, because
  mmseg and mmflow cannot even be imported without it on mmcv-lite. It only
  adds a module ``mmcv.ops`` when the real one fails to import.
* :func:`patch_checkpoint_loading` and :func:`patch_cpu_distributed` --
  *not* applied by ``import efc_mm``. They are applied by
  :func:`apply_runtime_patches`, which
  :func:`efc_mm.utils.register_all_modules` calls; ``tools/train.py``,
  ``tools/test.py``, the demos and the export tool call that first thing.
* :func:`trusted_checkpoint_loading` -- the checkpoint patch for the duration
  of one ``with`` block only (used by :func:`efc_mm.apis.init_model`).
* :func:`quiet_upstream_import_warnings` -- ``import efc_mm`` runs its own
  imports inside it: the warnings the stack prints on import and that efc_mm
  expects (mmcv-lite's ``MultiScaleDeformableAttention``, handled by the
  stand-in; torch's ``torch.jit.script`` deprecation from mmengine's import
  of ``torch.distributed.optim``) are ignored there, by exact message and
  module, and exactly these filters are removed afterwards.
* :func:`patch_pkg_resources_warning` -- applied by
  :func:`apply_runtime_patches`: mmengine's ``is_installed`` (every config
  that names an ``mmseg::`` base) imports and *reloads* ``pkg_resources``,
  which warns "pkg_resources is deprecated" twice per process on setuptools
  >= 67.5. ``pyproject.toml`` pins ``setuptools<81`` because mmengine and
  openmim still need ``pkg_resources`` (setuptools 81 may remove it); the
  patch ignores exactly that warning inside ``is_installed``.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import types
import warnings
from typing import Any

import torch
import torch.nn as nn

__all__ = [
    'install_mmcv_ops_standin', 'patch_checkpoint_loading',
    'trusted_checkpoint_loading', 'patch_cpu_distributed',
    'quiet_upstream_import_warnings', 'patch_pkg_resources_warning',
    'apply_runtime_patches', 'runtime_patches_applied', 'MMCV_OPS_IS_STANDIN'
]

#: True once the pure-PyTorch stand-in has been installed as ``mmcv.ops``.
MMCV_OPS_IS_STANDIN = False

_FULL_MMCV_HINT = (
    'This op needs the compiled ops of full mmcv, which are not installed '
    '(mmcv-lite). Install full mmcv (see docs/usage.md, "Installing on a GPU '
    'machine"), or choose a module that does not need it.')


# --------------------------------------------------------------------------
# 1. mmcv.ops on mmcv-lite
# Upstream: mmcv-lite has no compiled mmcv._ext, and mmseg 1.2.2 / mmflow
# 1.0.0rc0 import mmcv.ops unguarded (open-mmlab/mmsegmentation#871).
# --------------------------------------------------------------------------
def _correlation_module() -> types.ModuleType:
    """:mod:`efc_mm.ops.correlation`; loaded by path when this file runs
    outside the efc_mm package (a stock-mmseg process, tests/test_export.py),
    so that no efc_mm module gets imported there."""
    if __package__:
        return importlib.import_module(f'{__package__}.ops.correlation')
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ops',
                        'correlation.py')
    spec = importlib.util.spec_from_file_location('_efc_mm_correlation', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_mmcv_point_sample_module() -> types.ModuleType:
    """Load ``mmcv/ops/point_sample.py`` (pure PyTorch) as a standalone
    module: importing it as ``mmcv.ops.point_sample`` would run
    ``mmcv/ops/__init__.py``, which needs ``mmcv._ext``."""
    import mmcv
    path = os.path.join(os.path.dirname(mmcv.__file__), 'ops',
                        'point_sample.py')
    spec = importlib.util.spec_from_file_location('mmcv.ops.point_sample',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _MissingOp:
    """Placeholder for an mmcv op that needs compiled code.

    Importing it succeeds (so that modules which import it unguarded load);
    calling it, instantiating it or subclassing-and-building it raises.
    """

    def __init__(self, name: str) -> None:
        self.__name__ = name
        self.__qualname__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f'mmcv.ops.{self.__name__}: {_FULL_MMCV_HINT}')

    def __mro_entries__(self, bases):  # used as a base class
        name = self.__name__

        class _Missing(nn.Module):
            def __init__(self, *args, **kwargs):
                raise RuntimeError(f'mmcv.ops.{name}: {_FULL_MMCV_HINT}')

        _Missing.__name__ = name
        return (_Missing, )

    def __repr__(self) -> str:
        return f'<missing mmcv.ops.{self.__name__} (needs full mmcv)>'


def _build_standin_module() -> types.ModuleType:
    module = types.ModuleType('mmcv.ops')
    module.__doc__ = ('efc_mm pure-PyTorch stand-in for mmcv.ops (mmcv-lite '
                      'has no compiled ops). Real: point_sample, '
                      'bilinear_grid_sample, SimpleRoIAlign (mmcv\'s own '
                      'pure-PyTorch file) and Correlation '
                      '(efc_mm.ops.correlation). Everything else raises '
                      'when used.')
    module.__file__ = __file__
    module.__path__ = []  # a package, so `import mmcv.ops.x` fails cleanly
    module.Correlation = _correlation_module().Correlation
    module.EFC_MM_STANDIN = True
    real_ps = _load_mmcv_point_sample_module()
    module.point_sample = real_ps.point_sample
    module.bilinear_grid_sample = real_ps.bilinear_grid_sample
    module.SimpleRoIAlign = real_ps.SimpleRoIAlign

    def __getattr__(name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        return _MissingOp(name)

    module.__getattr__ = __getattr__
    return module


def install_mmcv_ops_standin(force: bool = False) -> bool:
    """Register the pure-PyTorch stand-in as ``mmcv.ops`` if the real one
    fails to import.

    ``mmseg.models`` imports ``mmcv.ops.point_sample`` / ``sigmoid_focal_loss``
    and ``mmflow.models`` imports ``mmcv.ops.Correlation`` unguarded, so on
    mmcv-lite both fail with ``No module named 'mmcv._ext'``. The stand-in
    provides the pure-PyTorch ops for real and a placeholder that raises a
    clear :class:`RuntimeError` naming full mmcv for every other op. With full
    mmcv installed this does nothing.

    Args:
        force (bool): install the stand-in even if the real ``mmcv.ops``
            imports (for tests only).

    Returns:
        bool: whether the stand-in is now ``mmcv.ops``.
    """
    global MMCV_OPS_IS_STANDIN
    current = sys.modules.get('mmcv.ops')
    if current is not None and getattr(current, 'EFC_MM_STANDIN', False):
        MMCV_OPS_IS_STANDIN = True
        return True
    if not force:
        try:
            importlib.import_module('mmcv.ops')
            return False
        except ImportError:
            pass
    for name in list(sys.modules):  # drop the half-imported real package
        if name == 'mmcv.ops' or name.startswith('mmcv.ops.'):
            del sys.modules[name]
    import mmcv
    module = _build_standin_module()
    sys.modules['mmcv.ops'] = module
    mmcv.ops = module
    MMCV_OPS_IS_STANDIN = True
    return True


# --------------------------------------------------------------------------
# 2. mmengine checkpoints on torch >= 2.6
# Upstream: torch >= 2.6 defaults torch.load to weights_only=True and
# mmengine 0.10.7 does not pass weights_only=False, so it cannot read its own
# checkpoints (open-mmlab/mmengine#1655, fix proposed in #1650).
# --------------------------------------------------------------------------
def load_from_local_trusted(filename: str, map_location=None):
    """mmengine's local checkpoint loader with ``weights_only=False``.

    mmengine's checkpoints pickle ``HistoryBuffer`` and numpy objects in
    ``message_hub``; with ``weights_only=True`` resuming and
    ``tools/test.py CONFIG CKPT`` fail with ``UnpicklingError``. Unpickling
    runs code: **only load checkpoints you trust**.
    """
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')  # as mmengine
    return torch.load(filename, map_location=map_location, weights_only=False)


def _checkpoint_patch_needed() -> bool:
    import inspect

    from mmengine.runner import checkpoint as ckpt
    if ckpt.CheckpointLoader._schemes.get('') is load_from_local_trusted:
        return False  # already patched
    return 'weights_only' not in inspect.getsource(ckpt.load_from_local)


def patch_checkpoint_loading() -> bool:
    """Re-register mmengine's local checkpoint scheme with
    :func:`load_from_local_trusted` (for good).

    Returns:
        bool: whether mmengine now loads local checkpoints with our loader
        (False: upstream passes ``weights_only`` itself, nothing done).
    """
    from mmengine.runner import checkpoint as ckpt
    if ckpt.CheckpointLoader._schemes.get('') is load_from_local_trusted:
        return True
    if not _checkpoint_patch_needed():
        return False
    ckpt.CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_trusted, force=True)
    return True


@contextlib.contextmanager
def trusted_checkpoint_loading():
    """Load local mmengine checkpoints with ``weights_only=False`` inside the
    ``with`` block only; the previous loader is restored on exit.

    For APIs that load a checkpoint the user names (``init_model``) without
    patching mmengine for the rest of the process.
    """
    from mmengine.runner import checkpoint as ckpt
    if not _checkpoint_patch_needed():
        yield
        return
    previous = ckpt.CheckpointLoader._schemes.get('')
    ckpt.CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_trusted, force=True)
    try:
        yield
    finally:
        if previous is not None:
            ckpt.CheckpointLoader.register_scheme(
                prefixes='', loader=previous, force=True)


# --------------------------------------------------------------------------
# 3. Distributed training on a machine without CUDA
# Upstream: mmengine 0.10.7 mmengine/dist/utils.py `_init_dist_pytorch` calls
# torch.cuda.set_device unconditionally, Runner.wrap_model gives DDP
# device_ids=[LOCAL_RANK], and mmseg's default runtime asks for nccl.
# --------------------------------------------------------------------------
def patch_cpu_distributed() -> bool:
    """Let ``tools/dist_train.sh`` run on a machine without CUDA.

    Without CUDA: the process group is initialised with ``gloo`` and without
    ``torch.cuda.set_device``; DDP gets ``device_ids=None``; and the runner's
    ``env_cfg.dist_cfg.backend`` reads ``'gloo'`` (what is used), so the
    logged runtime environment and config tell the truth. With CUDA nothing
    changes.

    Returns:
        bool: whether the patch is in place.
    """
    if torch.cuda.is_available():
        return False
    from mmengine.dist import utils as dist_utils
    from mmengine.runner import runner as runner_mod
    if getattr(dist_utils._init_dist_pytorch, '_efc_mm_patched', False):
        return True
    import torch.distributed as torch_dist

    def _init_dist_pytorch_cpu(backend='gloo', init_backend='torch', **kwargs):
        """CPU-only replacement: gloo, no ``torch.cuda.set_device``."""
        if init_backend != 'torch':
            raise ValueError(f'init_backend={init_backend!r} needs CUDA; on '
                             'a CPU machine only "torch" (gloo) is supported')
        torch_dist.init_process_group(backend='gloo', **kwargs)

    _init_dist_pytorch_cpu._efc_mm_patched = True
    dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu

    original_setup_env = runner_mod.Runner.setup_env

    def setup_env(self, env_cfg):
        """Runner.setup_env with ``dist_cfg.backend = 'gloo'`` on CPU."""
        dist_cfg = env_cfg.get('dist_cfg', None)
        if isinstance(dist_cfg, dict) and \
                dist_cfg.get('backend', 'gloo') != 'gloo':
            dist_cfg['backend'] = 'gloo'  # the same dict is logged later
            cfg_env = self.cfg.get('env_cfg', None)
            if cfg_env is not None and isinstance(
                    cfg_env.get('dist_cfg', None), dict):
                cfg_env['dist_cfg']['backend'] = 'gloo'
        return original_setup_env(self, env_cfg)

    setup_env._efc_mm_patched = True
    runner_mod.Runner.setup_env = setup_env

    original_wrap = runner_mod.Runner.wrap_model

    def wrap_model(self, model_wrapper_cfg, model):
        """Runner.wrap_model without ``device_ids`` on CPU."""
        from mmengine.dist import is_distributed
        from mmengine.model import MMDistributedDataParallel
        if not is_distributed() or model_wrapper_cfg is not None:
            return original_wrap(self, model_wrapper_cfg, model)
        model = model.to('cpu')
        return MMDistributedDataParallel(
            module=model,
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=self.cfg.get('find_unused_parameters',
                                                False))

    wrap_model._efc_mm_patched = True
    runner_mod.Runner.wrap_model = wrap_model
    return True


# --------------------------------------------------------------------------
# 4. Warnings the stack prints on import / config parsing
# Upstream: mmcv-lite 2.0.1 mmcv/cnn/bricks/transformer.py warns at import
# that MultiScaleDeformableAttention needs full mmcv; torch >= 2.9 deprecates
# torch.jit.script, which torch.distributed.optim (imported by mmengine.optim)
# calls at import; mmengine 0.10.7 utils/package_utils.py is_installed
# imports and reloads pkg_resources (deprecated since setuptools 67.5).
# --------------------------------------------------------------------------
#: ``(message regex, category, module regex)`` ignored while efc_mm imports
#: its modules: each is expected, and handled or harmless here
IMPORT_WARNINGS = (
    (r'Fail to import ``MultiScaleDeformableAttention`` from '
     r'``mmcv\.ops\.multi_scale_deform_attn``', UserWarning,
     r'mmcv\.cnn\.bricks\.transformer'),
    (r'`torch\.jit\.(script|interface)` is deprecated', DeprecationWarning,
     r'torch\.jit\._script'),
)
#: the warning of setuptools' pkg_resources (message regex)
PKG_RESOURCES_WARNING = r'pkg_resources is deprecated as an API'


@contextlib.contextmanager
def quiet_upstream_import_warnings():
    """Ignore the warnings of :data:`IMPORT_WARNINGS` (exact message,
    category and emitting module) inside the block; every other warning is
    shown as usual.

    On exit exactly these filters are removed again. Unlike
    ``warnings.catch_warnings`` this keeps the filters that the libraries
    imported inside the block install for themselves.
    """
    added = []
    for message, category, module in IMPORT_WARNINGS:
        present = list(warnings.filters)
        warnings.filterwarnings('ignore', message=message, category=category,
                                module=module)
        if warnings.filters[0] not in present:  # else the user's: keep it
            added.append(warnings.filters[0])
    try:
        yield
    finally:
        for item in added:
            try:
                warnings.filters.remove(item)
            except ValueError:  # someone reset the filters meanwhile
                pass
        mutated = getattr(warnings, '_filters_mutated', None)
        if mutated is not None:  # invalidate the per-module caches
            mutated()


def patch_pkg_resources_warning() -> bool:
    """Run mmengine's ``is_installed`` with the "pkg_resources is
    deprecated" warning ignored (that one warning, inside that function
    only; what it returns is unchanged).

    Returns:
        bool: whether the patch is in place (False: this mmengine has no
        ``is_installed``).
    """
    try:
        from mmengine.config import config as config_mod
        from mmengine.utils import package_utils
    except ImportError:  # pragma: no cover - another mmengine layout
        return False
    original = getattr(package_utils, 'is_installed', None)
    if original is None:
        return False
    if getattr(original, '_efc_mm_patched', False):
        return True

    def is_installed(package: str) -> bool:
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message=PKG_RESOURCES_WARNING,
                                    category=UserWarning)
            return original(package)

    is_installed.__doc__ = original.__doc__
    is_installed.__wrapped__ = original
    is_installed._efc_mm_patched = True
    import mmengine.utils
    for module in (package_utils, mmengine.utils, config_mod):
        if getattr(module, 'is_installed', None) is original:
            module.is_installed = is_installed
    return True


_APPLIED: dict = {}


def apply_runtime_patches() -> dict:
    """Apply the checkpoint, CPU-DDP and pkg_resources-warning patches
    (idempotent); the
    ``mmcv.ops`` stand-in is already in place after ``import efc_mm``.

    Called by :func:`efc_mm.utils.register_all_modules`.

    Returns:
        dict: ``{patch_name: applied}``.
    """
    if not _APPLIED:
        _APPLIED['mmcv_ops_standin'] = install_mmcv_ops_standin()
        _APPLIED['checkpoint_weights_only'] = patch_checkpoint_loading()
        _APPLIED['cpu_distributed'] = patch_cpu_distributed()
        _APPLIED['pkg_resources_warning'] = patch_pkg_resources_warning()
    return dict(_APPLIED)


def runtime_patches_applied() -> bool:
    """Whether :func:`apply_runtime_patches` has run in this process."""
    return bool(_APPLIED)
