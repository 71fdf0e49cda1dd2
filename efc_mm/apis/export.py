"""Export the segmentation branch of an EFC model to stock mmseg.

EFC adds nothing to the segmentor at inference (Ding et al., AAAI 2020):
``EFCSegmentor`` is mmseg's ``EncoderDecoder`` plus a flow branch used only
in training. This module writes

* a config a plain mmseg install can build: ``type='EncoderDecoder'``,
  ``SegDataPreProcessor`` with the same normalisation, ``backbone`` /
  ``neck`` / ``decode_head`` / ``auxiliary_head`` / ``test_cfg`` copied,
  no flow or EFC keys and no ``custom_imports`` of efc_mm; every other
  top-level entry (datasets, evaluators, schedules, hooks, ...) is kept
  only if all its ``type`` s are stock mmseg/mmengine, and the test
  pipeline falls back to a single-frame one. efc_mm classes that are
  drop-in subclasses of a stock one (:data:`STOCK_EQUIVALENTS`, e.g.
  ``SyntheticWorldDataset`` -> ``CityscapesDataset``, the pair visualizer
  and hook -> mmseg's) become that class; ``pair_*`` entries and the
  synthetic world's settings are dropped; when the source tests on pairs
  but validates on single frames, the exported config tests on the val
  loader;
* a checkpoint holding exactly the segmentor's weights (``flow_decoder.*``
  and any frozen flow encoder dropped) and a minimal ``meta``
  (``dataset_meta`` when known, provenance strings) that loads with
  ``torch.load(weights_only=True)``, so stock mmengine needs no patch.

A model whose backbone / head is not in mmseg (e.g. the Dilation front end
and context module of efc_mm) cannot be exported; :class:`NotStockMMSegError`
names the module.
"""
import copy
import inspect
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config

__all__ = ['NotStockMMSegError', 'non_stock_types', 'export_config',
           'export_checkpoint', 'export_segmentor', 'SEGMENTOR_KEYS']

#: model entries copied into the exported EncoderDecoder
SEGMENTOR_KEYS = ('backbone', 'neck', 'decode_head', 'auxiliary_head',
                  'test_cfg')
#: packages whose registered classes a plain mmseg install has
STOCK_PACKAGES = ('mmseg', 'mmengine', 'mmcv', 'torch')
#: efc_mm classes that are drop-in subclasses of a stock mmseg class: the
#: export writes the stock class (and drops the arguments it lacks)
STOCK_EQUIVALENTS = {
    'SyntheticWorldDataset': 'CityscapesDataset',     # + world generation
    'PairLocalVisualizer': 'SegLocalVisualizer',      # + pair panels
    'PairSegVisualizationHook': 'SegVisualizationHook',  # + pair outputs
}
#: top-level entries that only exist for efc_mm (pair loaders / evaluators
#: under ``pair_*`` names, the synthetic world's generator settings)
EFC_ONLY_KEYS = ('world', )
#: top-level entries that only make sense together (mmengine Runner)
GROUPS = (('train_dataloader', 'train_cfg', 'optim_wrapper',
           'param_scheduler'),
          ('val_dataloader', 'val_evaluator', 'val_cfg'),
          ('test_dataloader', 'test_evaluator', 'test_cfg'))


class NotStockMMSegError(ValueError):
    """The config uses a module a plain mmseg install does not have."""


def _registries():
    import mmseg.registry as reg
    return [getattr(reg, n) for n in dir(reg)
            if n.isupper() and hasattr(getattr(reg, n), 'get')]


def _type_origin(type_) -> Optional[str]:
    """Module that defines ``type_`` (a registered name or a class), or
    None when no mmseg registry (or its mmengine parent) knows it."""
    if not isinstance(type_, str):
        return getattr(type_, '__module__', None)
    if '.' in type_ and type_.split('.', 1)[0] not in ('mmseg', 'mmengine'):
        return type_.split('.', 1)[0]  # another scope, e.g. mmflow.X
    obj = _registered(type_)
    return None if obj is None else getattr(obj, '__module__', '') or ''


def non_stock_types(obj, path: str = '') -> List[Tuple[str, str, str]]:
    """Every ``type`` in ``obj`` (nested dicts/lists) that plain mmseg
    cannot build: ``[(path, type, origin)]``, origin ``'unregistered'``
    when no registry knows the name."""
    found = []
    if isinstance(obj, dict):
        if 'type' in obj:
            origin = _type_origin(obj['type'])
            if origin is None or origin.split('.')[0] not in STOCK_PACKAGES:
                name = obj['type'] if isinstance(obj['type'], str) else \
                    getattr(obj['type'], '__name__', str(obj['type']))
                found.append((path or '<root>', name,
                              origin or 'unregistered'))
        for key, value in obj.items():
            found += non_stock_types(value, f'{path}.{key}' if path else key)
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            found += non_stock_types(value, f'{path}[{i}]')
    return found


def _plain(obj):
    """Config objects -> plain python containers."""
    if hasattr(obj, 'to_dict'):
        obj = obj.to_dict()
    return copy.deepcopy(obj)


def _convert_preprocessor(dp: Optional[dict]) -> dict:
    """``PairSegDataPreProcessor`` (or any SegDataPreProcessor-like dict)
    -> mmseg ``SegDataPreProcessor`` with the same arguments."""
    from mmseg.models.data_preprocessor import SegDataPreProcessor
    allowed = set(inspect.signature(SegDataPreProcessor.__init__).parameters)
    dp = dict(dp or {})
    kind = dp.pop('type', 'SegDataPreProcessor')
    if kind not in ('PairSegDataPreProcessor', 'SegDataPreProcessor',
                    'mmseg.SegDataPreProcessor'):
        raise NotStockMMSegError(
            f'model.data_preprocessor type {kind!r} cannot be converted to '
            "mmseg's SegDataPreProcessor")
    unknown = sorted(set(dp) - allowed)
    if unknown:
        raise NotStockMMSegError(
            f'model.data_preprocessor keys {unknown} are not arguments of '
            "mmseg's SegDataPreProcessor")
    return dict(type='SegDataPreProcessor', **dp)


def _segmentor_model(cfg: Config) -> dict:
    """The exported ``model`` dict (raises on non-stock modules)."""
    model = _plain(cfg.model)
    kind = model.get('type')
    if kind not in ('EFCSegmentor', 'EncoderDecoder'):
        raise NotStockMMSegError(
            f'model.type is {kind!r}; export_segmentor handles EFCSegmentor '
            '(and EncoderDecoder) models')
    seg = {k: model[k] for k in SEGMENTOR_KEYS if model.get(k) is not None}
    if 'backbone' not in seg or 'decode_head' not in seg:
        raise KeyError('model needs "backbone" and "decode_head" entries')
    bad = non_stock_types(seg, 'model')
    if bad:
        lines = '; '.join(f'{p}: type {t!r} (from {o})' for p, t, o in bad)
        raise NotStockMMSegError(
            'cannot export to stock mmseg, these modules are not part of '
            f'mmseg: {lines}. A plain mmseg install could not build them; '
            'keep using the efc_mm config (custom_imports=efc_mm) instead.')
    seg['backbone'].pop('init_cfg', None)  # weights come from the checkpoint
    dp = model.get('data_preprocessor') or cfg.get('data_preprocessor')
    return dict(type='EncoderDecoder',
                data_preprocessor=_convert_preprocessor(dp),
                pretrained=None, train_cfg=dict(), **seg)


def _custom_imports(value: Optional[dict]) -> Optional[dict]:
    """``custom_imports`` without efc_mm (None when nothing is left)."""
    if not value:
        return None
    imports = value.get('imports', [])
    imports = [imports] if isinstance(imports, str) else list(imports)
    kept = [m for m in imports if m.split('.')[0] != 'efc_mm']
    return dict(value, imports=kept) if kept else None


def _prune(value, key: str):
    """``value`` if stock; for containers without a ``type`` the stock
    members; None when nothing stock is left."""
    if not non_stock_types(value, key):
        return value
    if isinstance(value, list):
        kept = [v for i, v in enumerate(value)
                if not non_stock_types(v, f'{key}[{i}]')]
        return kept or None
    if isinstance(value, dict) and 'type' not in value:
        kept = {k: v for k, v in value.items()
                if not non_stock_types(v, f'{key}.{k}')}
        return kept or None
    return None


def _init_params(cls) -> set:
    """Every named ``__init__`` argument along ``cls``'s MRO."""
    names = set()
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            continue
        names.update(p.name for p in params
                     if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
    return names - {'self'}


def _registered(name: str):
    """The object an mmseg registry (or its mmengine parent) builds for
    ``name``, or None."""
    for registry in _registries():
        try:
            obj = registry.get(name)
        except Exception:  # noqa: BLE001 - a registry that cannot resolve
            obj = None
        if obj is not None:
            return obj
    return None


def _to_stock(obj, path: str, notes: Dict[str, str]):
    """``obj`` with every :data:`STOCK_EQUIVALENTS` type replaced by its
    stock parent, minus the arguments only the efc_mm class has."""
    if isinstance(obj, dict):
        obj = {k: _to_stock(v, f'{path}.{k}' if path else k, notes)
               for k, v in obj.items()}
        kind = obj.get('type')
        if isinstance(kind, str) and kind.split('.')[-1] in STOCK_EQUIVALENTS:
            ours = _registered(kind.split('.')[-1])
            stock_name = STOCK_EQUIVALENTS[kind.split('.')[-1]]
            stock = _registered(stock_name)
            if ours is not None and stock is not None and \
                    issubclass(ours, stock):
                extra = sorted((set(obj) - {'type'}) - _init_params(stock))
                obj = {k: v for k, v in obj.items() if k not in extra}
                obj['type'] = stock_name
                notes[path] = (f'{kind} -> {stock_name}, its stock mmseg '
                               'parent' + (f' (dropped {extra})'
                                           if extra else ''))
        return obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_stock(v, f'{path}[{i}]', notes)
                         for i, v in enumerate(obj))
    return obj


def _is_single_frame_loader(loader) -> bool:
    """A stock dataloader dict whose dataset and pipeline are single-frame
    mmseg ones."""
    if not isinstance(loader, dict) or \
            not isinstance(loader.get('dataset'), dict):
        return False
    if non_stock_types(loader, 'loader'):
        return False
    pipeline = loader['dataset'].get('pipeline') or []
    return not any('Pair' in str(t.get('type', '')) for t in pipeline
                   if isinstance(t, dict))


def export_config(cfg: Config) -> Tuple[Config, Dict[str, str]]:
    """Stock-mmseg config of the segmentation branch of an EFC config.

    Returns:
        tuple: ``(Config, notes)``, ``notes`` mapping each dropped or
        replaced top-level entry to the reason.

    Raises:
        NotStockMMSegError: the backbone / neck / heads are not mmseg's.
    """
    from .inference import DEFAULT_TEST_PIPELINE
    notes: Dict[str, str] = {}
    out = dict(default_scope='mmseg', model=_segmentor_model(cfg))
    src = {}
    for key, value in cfg.to_dict().items():
        if key.startswith('pair_') or key in EFC_ONLY_KEYS:
            notes[key] = 'dropped: efc_mm only (pair evaluation / synthetic '\
                'world settings)'
        elif key != 'model':
            src[key] = _to_stock(_plain(value), key, notes)
    out['data_preprocessor'] = copy.deepcopy(out['model']['data_preprocessor'])
    handled = {'model', 'default_scope', 'data_preprocessor',
               'custom_imports', 'test_pipeline'}
    for group in GROUPS:
        present = [k for k in group if k in src]
        bad = [k for k in present if non_stock_types(src[k], k)]
        if bad or (present and group[0] not in src):
            for k in present:
                notes[k] = (f'dropped with {bad or [group[0]]}: not stock '
                            'mmseg (pair dataset / efc_mm metric or loop)')
        else:
            out.update({k: src[k] for k in present})
        handled.update(group)
    for key, value in src.items():
        if key in handled:
            continue
        if value is None:
            out[key] = None  # e.g. load_from = None: nothing to prune
            continue
        kept = _prune(value, key)
        if kept is None:
            notes[key] = 'dropped: uses modules that are not stock mmseg'
        else:
            out[key] = kept
            if kept is not value:
                notes[key] = 'kept its stock mmseg entries only'
    imports = _custom_imports(src.get('custom_imports'))
    if imports:
        out['custom_imports'] = imports
    elif 'custom_imports' in src:
        notes['custom_imports'] = 'dropped (only imported efc_mm)'
    pipeline = src.get('test_pipeline')
    if pipeline and not non_stock_types(pipeline, 'test_pipeline') and \
            not any('Pair' in str(t.get('type')) for t in pipeline):
        out['test_pipeline'] = pipeline
    else:
        out['test_pipeline'] = copy.deepcopy(DEFAULT_TEST_PIPELINE)
        notes['test_pipeline'] = ('replaced by a standard single-frame '
                                  'pipeline (LoadImageFromFile, '
                                  'PackSegInputs)')
    _single_frame_test(out, notes)
    return Config(out), notes


def _single_frame_test(out: dict, notes: Dict[str, str]) -> None:
    """Give ``out`` a single-frame test loop when it has none (the source
    tested on pairs) but kept a single-frame stock loader: the val loader
    (with the val evaluator), else another top-level ``*_dataloader``
    (with mmseg's ``IoUMetric``)."""
    if 'test_dataloader' in out:
        return
    names = ['val_dataloader'] + sorted(
        k for k in out if k.endswith('_dataloader') and k != 'val_dataloader')
    name = next((k for k in names if _is_single_frame_loader(out.get(k))),
                None)
    if name is None:
        notes['test_dataloader'] = (
            notes.get('test_dataloader', 'absent') + '; no single-frame '
            'stock dataset in the source config to test on instead')
        return
    out['test_dataloader'] = copy.deepcopy(out[name])
    evaluator = out.get('val_evaluator') if name == 'val_dataloader' else None
    out['test_evaluator'] = copy.deepcopy(
        evaluator or dict(type='IoUMetric', iou_metrics=['mIoU']))
    out['test_cfg'] = dict(type='TestLoop')
    what = 'val' if name == 'val_dataloader' else f'`{name}`'
    notes['test_dataloader'] = (f'the single-frame {what} loader (the '
                                'source config tests on pairs)')
    notes['test_evaluator'] = ('the val evaluator' if evaluator else
                               "mmseg's IoUMetric (mIoU)")
    notes['test_cfg'] = 'TestLoop'


def _plain_meta(obj):
    """Meta values as builtins only (loadable with ``weights_only=True``)."""
    if isinstance(obj, dict):
        return {str(k): _plain_meta(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain_meta(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def _load_state(checkpoint: str) -> Tuple[dict, dict]:
    """``(state_dict, meta)`` of an mmengine checkpoint (trusted file:
    loaded with ``weights_only=False``, it pickles runner state)."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=False)
    if not isinstance(ckpt, dict):
        raise ValueError(f'{checkpoint} is not a checkpoint dict')
    state = ckpt.get('state_dict', ckpt)
    state = OrderedDict((k[7:] if k.startswith('module.') else k, v)
                        for k, v in state.items() if torch.is_tensor(v))
    return state, ckpt.get('meta', {}) or {}


def export_checkpoint(model_cfg: dict, checkpoint: str, out_file: str,
                      extra_meta: Optional[dict] = None) -> List[str]:
    """Write the segmentor weights of an EFC checkpoint for ``model_cfg``
    (the exported EncoderDecoder).

    Every parameter/buffer of the exported model must be in the EFC
    checkpoint with the same shape (checked by a strict
    ``load_state_dict``). Returns the dropped key names (flow branch).

    Raises:
        FileNotFoundError: no such checkpoint.
        KeyError: the checkpoint lacks some segmentor weights (named).
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model = MODELS.build(copy.deepcopy(model_cfg))
    state, meta = _load_state(checkpoint)
    wanted = list(model.state_dict().keys())
    missing = [k for k in wanted if k not in state]
    if missing:
        raise KeyError(f'{checkpoint} lacks {len(missing)} segmentor '
                       f'weights, e.g. {missing[:5]}; is it a checkpoint of '
                       'this config?')
    out_state = OrderedDict((k, state[k].clone()) for k in wanted)
    model.load_state_dict(out_state, strict=True)  # shapes match
    new_meta = dict(exported_from=osp.basename(checkpoint),
                    exported_by='efc_mm tools/export_segmentor.py')
    if meta.get('dataset_meta'):
        new_meta['dataset_meta'] = _plain_meta(meta['dataset_meta'])
    new_meta.update(_plain_meta(extra_meta or {}))
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    torch.save(dict(state_dict=out_state, meta=new_meta), out_file)
    return sorted(set(state) - set(wanted))


def export_segmentor(config, checkpoint: str, out_dir: str,
                     name: Optional[str] = None) -> dict:
    """Export an EFC config + checkpoint to a stock-mmseg pair of files.

    Args:
        config (str | Config): the EFC config.
        checkpoint (str): its checkpoint.
        out_dir (str): output folder (created).
        name (str, optional): file stem; default ``<config stem>_mmseg``.

    Returns:
        dict: ``config`` and ``checkpoint`` paths, ``dropped_keys`` (flow
        branch weights left out) and ``notes`` (config entries dropped or
        replaced, with reasons).
    """
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file not found: {config}')
        stem = osp.splitext(osp.basename(config))[0]
        cfg = Config.fromfile(config)
    else:
        stem, cfg = 'model', config
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
    new_cfg, notes = export_config(cfg)
    name = name or f'{stem}_mmseg'
    os.makedirs(out_dir, exist_ok=True)
    cfg_file = osp.join(out_dir, f'{name}.py')
    ckpt_file = osp.join(out_dir, f'{name}.pth')
    header = (f'# Stock mmseg config exported by efc_mm from {stem}: the '
              'segmentation branch only\n# (no flow decoder, no efc_mm '
              'import needed). Weights: ' f'{name}.pth\n')
    with open(cfg_file, 'w') as f:
        f.write(header + new_cfg.pretty_text)
    dropped = export_checkpoint(new_cfg.model.to_dict(), checkpoint,
                                ckpt_file)
    return dict(config=cfg_file, checkpoint=ckpt_file, dropped_keys=dropped,
                notes=notes)
