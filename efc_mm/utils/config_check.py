"""Fail early, and clearly, on a config that names a module that does not exist.

mmengine only notices an unknown ``type`` when it builds that part, deep in
``Runner`` start-up, with a message that names neither the config file nor
the field. :func:`check_config_types` walks the config before the runner is
built and raises a :class:`KeyError` naming the file, the dotted field and
the registry, with close matches.
"""
import difflib
from typing import Iterator, Tuple

from mmengine.config import Config
from mmengine.registry import DefaultScope, Registry

from .set_env import import_all_modules


# field prefix -> registry name in mmseg (longest prefix wins)
_FIELD_REGISTRIES = (
    ('model', 'MODELS'),
    ('train_dataloader.dataset.pipeline', 'TRANSFORMS'),
    ('val_dataloader.dataset.pipeline', 'TRANSFORMS'),
    ('test_dataloader.dataset.pipeline', 'TRANSFORMS'),
    ('train_dataloader.dataset', 'DATASETS'),
    ('val_dataloader.dataset', 'DATASETS'),
    ('test_dataloader.dataset', 'DATASETS'),
    ('val_evaluator', 'METRICS'),
    ('test_evaluator', 'METRICS'),
)


def _iter_types(node, path: str) -> Iterator[Tuple[str, str]]:
    if isinstance(node, dict):
        t = node.get('type', None)
        if isinstance(t, str):
            yield path, t
        for key, value in node.items():
            yield from _iter_types(value, f'{path}.{key}' if path else key)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _iter_types(value, f'{path}[{i}]')


def _registry_for(path: str):
    import mmseg.registry as regs
    best = None
    for prefix, name in _FIELD_REGISTRIES:
        if path == prefix or path.startswith(prefix + '.') or \
                path.startswith(prefix + '['):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, name)
    if best is None:
        return None, None
    # pipelines nested inside a dataset wrapper are still transforms
    if best[1] == 'DATASETS' and '.pipeline' in path[len(best[0]):]:
        return regs.TRANSFORMS, 'TRANSFORMS'
    return getattr(regs, best[1]), best[1]


def check_config_types(cfg: Config, filename: str = '<config>') -> None:
    """Check every ``type`` under ``model``, the datasets, their pipelines
    and the evaluators against mmseg's registries (efc_mm registers there).

    Raises:
        KeyError: ``"{filename}: model.decode_head.type='NoSuchHead' is not
        registered in mmseg MODELS (did you mean ...)"``.
    """
    import_all_modules(init_default_scope=False)
    scope = cfg.get('default_scope', 'mmseg') or 'mmseg'
    with DefaultScope.overwrite_default_scope(scope):
        for path, type_name in _iter_types(cfg._cfg_dict.to_dict(), ''):
            if path.endswith('.type'):
                path = path[:-len('.type')]
            if 'init_cfg' in path.split('.'):
                continue  # weight initialisers: WEIGHT_INITIALIZERS
            registry, reg_name = _registry_for(path)
            if registry is None:
                continue
            if type_name == 'mmseg.' + type_name.split('.')[-1]:
                type_name = type_name.split('.')[-1]
            if registry.get(type_name) is not None:
                continue
            names = _all_names(registry)
            close = difflib.get_close_matches(type_name, names, n=3)
            hint = f' (did you mean {", ".join(close)}?)' if close else ''
            raise KeyError(
                f'{filename}: {path}.type={type_name!r} is not registered in '
                f'{scope} {reg_name}{hint}. Is the module imported '
                "(custom_imports=dict(imports=['efc_mm']))?")


def _all_names(registry: Registry):
    names = set(registry.module_dict)
    parent = registry.parent
    while parent is not None:
        names |= set(parent.module_dict)
        parent = parent.parent
    return sorted(names)
