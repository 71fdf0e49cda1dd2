"""Clear errors when pretrained weights cannot be loaded.

mmengine loads a config's pretrained weights (``model.pretrained``, an
``init_cfg`` of type ``Pretrained`` / ``PretrainedPart``) when training
starts. Offline, a ResNet config then fails with a bare
``URLError: <urlopen error ...>`` that names neither the checkpoint
(``open-mmlab://resnet50_v1c``) nor the way out; a Dilation config whose
converted VGG-16 file is missing says only ``... can not be found``.

:func:`explain_pretrained_errors` wraps the code that initialises the model
(``tools/train.py`` wraps ``runner.train()``) and turns such an error into a
:class:`PretrainedWeightsError` that names the checkpoint, its URL, the
config key that set it and the fixes: ``--cfg-options model.pretrained=None``
(train from scratch; every efc_mm config family reads it) or a local file.
Errors that do not come from loading pretrained weights pass unchanged.
"""
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, List, Optional, Tuple
from urllib.error import URLError

__all__ = ['PretrainedWeightsError', 'explain_pretrained_errors',
           'pretrained_checkpoints', 'checkpoint_url',
           'pretrained_error_message']

#: docs/usage.md section with the recipe that makes the Dilation front-end file.
VGG_RECIPE = ('docs/usage.md, section "VGG-16 front-end weights (Dilation '
              'configs)"')


class PretrainedWeightsError(OSError):
    """Pretrained weights named by the config could not be loaded (no
    network, or a missing local file). An ``OSError`` like the errors it
    explains; the original is chained as ``__cause__``."""


def pretrained_checkpoints(model_cfg, prefix: str = 'model'
                           ) -> List[Tuple[str, str]]:
    """Every pretrained-weights reference of a model config.

    Args:
        model_cfg (dict): ``cfg.model`` (nested dicts / lists).
        prefix (str): key path of ``model_cfg``. Default ``'model'``.

    Returns:
        list[tuple[str, str]]: ``(key path, checkpoint)``, e.g.
        ``('model.pretrained', 'open-mmlab://resnet50_v1c')`` or
        ``('model.backbone.init_cfg.checkpoint', 'pretrain/x.pth')``.
    """
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                sub = f'{path}.{key}'
                if key in ('pretrained', 'checkpoint') and \
                        isinstance(value, str):
                    found.append((sub, value))
                else:
                    walk(value, sub)
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                walk(value, f'{path}[{i}]')

    walk(model_cfg, prefix)
    return found


def checkpoint_url(checkpoint: str) -> Optional[str]:
    """The http(s) URL mmengine downloads ``checkpoint`` from, or None for a
    local file. ``open-mmlab://NAME`` is resolved with mmengine's model-zoo
    table (``mmengine/hub/openmmlab.json``, deprecated names followed)."""
    if checkpoint.startswith(('http://', 'https://')):
        return checkpoint
    for scheme in ('open-mmlab://', 'openmmlab://'):
        if checkpoint.startswith(scheme):
            from mmengine.runner.checkpoint import (
                get_deprecated_model_names, get_external_models)
            name = checkpoint[len(scheme):]
            name = get_deprecated_model_names().get(name, name)
            url = get_external_models().get(name)
            return url if url and url.startswith(('http://', 'https://')) \
                else None
    return None


def _fix_key(key: str) -> str:
    """The override that switches the pretrained weights of ``key`` off."""
    if key.endswith('.init_cfg.checkpoint'):
        return key[:-len('.checkpoint')] + '=None'
    return key + '=None'


def pretrained_error_message(checkpoint: str, error: BaseException,
                             model_cfg=None) -> str:
    """The explanation :class:`PretrainedWeightsError` carries.

    Args:
        checkpoint (str): the checkpoint mmengine failed to load.
        error (BaseException): the error it raised.
        model_cfg (dict, optional): ``cfg.model``, to name the config key
            that set ``checkpoint`` and to recognise a Dilation front end.
    """
    keys = [k for k, v in pretrained_checkpoints(model_cfg or {})
            if v == checkpoint]
    key = keys[0] if keys else 'model.pretrained'
    where = f' (set by {", ".join(keys)})' if keys else ''
    if key == 'model.pretrained' or key.startswith('model.backbone.'):
        scratch = f'train from scratch: --cfg-options {_fix_key(key)}'
    else:  # another part (e.g. TCC_fix's flow branch)
        scratch = ('if that part may start from random weights, '
                   f'--cfg-options {_fix_key(key)}')
    url = checkpoint_url(checkpoint)
    if url is not None or '://' in checkpoint:
        import torch.hub
        name = osp.basename(url or checkpoint)
        cache = osp.join(torch.hub.get_dir(), 'checkpoints')
        src = f' from {url}' if url and url != checkpoint else ''
        return (
            f'Could not download the pretrained weights {checkpoint!r}'
            f'{where}{src}: {type(error).__name__}: {error}. Without network '
            f'access either\n  - {scratch}, or\n  - download {url or name} '
            'on a machine that has access and pass the file: --cfg-options '
            f'{key}=/path/to/{name} (or copy it to {cache}/{name}, where '
            'mmengine looks before downloading).')
    vgg = 'vgg16' in osp.basename(checkpoint).lower() or (
        scratch.startswith('train') and 'DilatedVGG16' in repr(model_cfg))
    recipe = (f'make it with the conversion recipe in {VGG_RECIPE}, or '
              if vgg else 'give the right path, or ')
    return (f'Pretrained weights file {checkpoint!r}{where} not found '
            f'(relative to the working directory {os.getcwd()}; '
            f'{type(error).__name__}: {error}): {recipe}{scratch}.')


def _failing_checkpoint(tb) -> Optional[str]:
    """The checkpoint of the weight initialiser (mmengine's
    ``PretrainedInit``, efc_mm's ``PretrainedPart``, ...) whose ``__call__``
    is on traceback ``tb``, or None."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        owner = frame.f_locals.get('self')
        if frame.f_code.co_name == '__call__' and \
                isinstance(getattr(owner, 'checkpoint', None), str):
            found = owner.checkpoint
        tb = tb.tb_next
    return found


@contextmanager
def explain_pretrained_errors(model_cfg=None) -> Iterator[None]:
    """Turn a failure to load pretrained weights into a clear error.

    Within the block, an ``OSError`` (``URLError``, ``HTTPError``,
    ``ConnectionError``, ``FileNotFoundError``, a timeout) raised while a
    weight initialiser loads its checkpoint is re-raised as
    :class:`PretrainedWeightsError` naming the checkpoint, its URL, the
    config key and the fixes; anything else passes unchanged. Patches
    nothing: the initialiser is found on the traceback.

    Args:
        model_cfg (dict, optional): ``cfg.model``, for the config key.

    Example::

        with explain_pretrained_errors(cfg.model):
            runner.train()
    """
    try:
        yield
    except OSError as exc:
        if isinstance(exc, PretrainedWeightsError):
            raise
        checkpoint = _failing_checkpoint(exc.__traceback__)
        if checkpoint is None:
            raise
        if not isinstance(exc, (URLError, FileNotFoundError, ConnectionError,
                                TimeoutError)) and '://' not in checkpoint:
            raise  # e.g. a permission error on a local file: already clear
        raise PretrainedWeightsError(
            pretrained_error_message(checkpoint, exc, model_cfg)) from exc
