"""Set up the environment for running efc_mm (as ``mmseg.utils.set_env``)."""


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register every mmseg and efc_mm module and apply efc_mm's runtime
    patches. Call it once before building a runner or loading a checkpoint;
    ``tools/train.py``, ``tools/test.py``, the demos and the export tool do.

    1. Imports mmseg's and efc_mm's modules, so that mmseg's registries hold
       everything a config can name (as
       :func:`mmseg.utils.register_all_modules`).
    2. Applies :func:`efc_mm.compat.apply_runtime_patches`: mmengine loads
       local checkpoints with ``weights_only=False`` (torch >= 2.6; only load
       checkpoints you trust) and, on a machine without CUDA, distributed
       training uses gloo and a CPU DDP wrapper. ``import efc_mm`` alone does
       not apply these.
    3. Sets the default scope to ``'mmseg'`` if ``init_default_scope``.

    Args:
        init_default_scope (bool): whether to set the default scope to
            ``'mmseg'`` (mmseg's behaviour: a new scope instance is made if
            another one is current).
    """
    from efc_mm import compat
    import_all_modules(init_default_scope=init_default_scope)
    compat.apply_runtime_patches()


def import_all_modules(init_default_scope: bool = False) -> None:
    """Step 1 (and 3) of :func:`register_all_modules` only: import the
    modules so the registries are complete, patching nothing."""
    import efc_mm  # noqa: F401  (registers efc_mm's modules)
    from mmseg.utils import register_all_modules as mmseg_register
    mmseg_register(init_default_scope=init_default_scope)
    import efc_mm.models  # noqa: F401
