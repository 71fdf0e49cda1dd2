"""efc_mm: Every Frame Counts (AAAI 2020) for MMSegmentation.

Importing this package installs one patch, the ``mmcv.ops`` stand-in of
:mod:`efc_mm.compat` (mmcv-lite has no compiled ops and mmseg / mmflow
cannot be imported without it; it does nothing with full mmcv), then
registers every efc_mm module into mmseg's (and, for flow-side modules,
mmflow's) registries; see :mod:`efc_mm.registry`.

It does *not* patch mmengine's checkpoint loading or distributed start-up:
call :func:`efc_mm.utils.register_all_modules` for that (the tools do).
The warnings the stack prints on import and that efc_mm expects are ignored
during these imports only
(:func:`efc_mm.compat.quiet_upstream_import_warnings`).
"""
from . import compat

# the import warnings of the stack that efc_mm expects (mmcv-lite's
# MultiScaleDeformableAttention, torch.jit's deprecation), by exact message
# and module, and only while efc_mm imports: see compat.IMPORT_WARNINGS
with compat.quiet_upstream_import_warnings():
    compat.install_mmcv_ops_standin()

    from .version import __version__  # noqa: E402

    from . import structures  # noqa: E402,F401
    from . import models  # noqa: E402,F401
    from . import datasets  # noqa: E402,F401
    from . import utils  # noqa: E402,F401
    from . import evaluation  # noqa: E402,F401
    from . import apis, engine, visualization  # noqa: E402,F401

__all__ = ['__version__', 'compat']
