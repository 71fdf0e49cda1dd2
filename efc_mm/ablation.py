"""The ablation rows of EFC (Ding et al., AAAI 2020, Tables 1-2), defined once.

Every row lives in one file, ``configs/_base_/ablation/<file>.py``, as a
variable ``_row_ = dict(name, table, metrics, model, train_dataset)``:

* ``model``: the row's loss modules present (a dict), absent (None) or
  given an argument, and any architecture switch (no flow branch, a frozen
  or separate flow encoder), merged over the protocol's model;
* ``train_dataset``: the pair draw it needs (one pair per snippet for the
  ``single`` rows, unlabelled snippets for ``UD``), merged over the
  protocol's training dataset;
* ``metrics``: ``'seg'``, ``'flow'`` or ``'all'``: which of the protocol's
  metrics apply (``'seg'`` drops the flow metric: the model has none).

A protocol (a full training config: Cityscapes, KITTI, the synthetic world,
CamVid) and a row give a config: :func:`compose`, used by the benches, the
tests and ``tools/train.py / test.py --row NAME``. The thin configs of
``configs/ablation/`` (the paper's Tables on Cityscapes and KITTI) are the
same composition written as a file (a test checks they agree).
"""
import glob
import os.path as osp
from typing import Dict, List, Optional

from mmengine.config import Config

__all__ = ['config_root', 'row_files', 'row_names', 'load_row', 'apply_row',
           'compose']

#: metric types that need a flow prediction
FLOW_METRICS = ('EFCFlowMetric', )


def config_root() -> str:
    """The ``configs/`` folder: the installed package's ``.mim/configs`` (a
    regular install), else the source checkout's ``configs/``."""
    here = osp.dirname(osp.abspath(__file__))
    for cand in (osp.join(here, '.mim', 'configs'),
                 osp.join(osp.dirname(here), 'configs')):
        if osp.isdir(osp.join(cand, '_base_', 'ablation')):
            return cand
    raise FileNotFoundError(
        'efc_mm: no configs/_base_/ablation next to the package '
        f'({here}/.mim/configs) or in the source checkout')


def row_files() -> Dict[str, str]:
    """``{row name: path}`` of every row file, in table order (Table 1,
    Table 2, then exploration rows)."""
    rows = []
    for path in sorted(glob.glob(osp.join(config_root(), '_base_', 'ablation',
                                          '*.py'))):
        row = Config.fromfile(path)._row_
        rows.append((row.get('table', 0) or 99, path, row['name']))
    order = ['baseline', 'TCC_fix', 'TCC_single', 'TCC_single+OM',
             'TCC_multi+OM', 'UD', 'UL', 'UL+OE', 'UL+TC', 'UL+OE+TC',
             'full']
    rows.sort(key=lambda r: (order.index(r[2]) if r[2] in order else 99,
                             r[1]))
    return {name: path for _, path, name in rows}


def row_names(table: Optional[int] = None) -> List[str]:
    """Names of the rows (of one table when ``table`` is 1 or 2)."""
    if table is None:
        return list(row_files())
    return [n for n in row_files() if load_row(n)['table'] == table]


def load_row(name: str) -> dict:
    """The ``_row_`` dict of row ``name``.

    Raises:
        KeyError: no such row (the message lists the rows there are).
    """
    files = row_files()
    if name not in files:
        raise KeyError(f'no ablation row {name!r}; rows: {list(files)}')
    row = Config.fromfile(files[name])._row_.to_dict()
    for key in ('model', 'train_dataset'):
        row.setdefault(key, {})
    row.setdefault('metrics', 'all')
    return row


def _train_dataset(cfg: Config) -> dict:
    """The training dataset dict a row's ``train_dataset`` merges into
    (inside a ``MultiSourcePairDataset`` the first, labelled source)."""
    ds = cfg.train_dataloader.dataset
    while ds.get('type') in ('MultiSourcePairDataset', 'RepeatDataset'):
        ds = ds['sources'][0] if 'sources' in ds else ds['dataset']
    return ds


def _drop_flow_metrics(evaluator):
    if isinstance(evaluator, (list, tuple)):
        return [e for e in evaluator if e.get('type') not in FLOW_METRICS]
    return evaluator


def apply_row(cfg: Config, name: str) -> Config:
    """Merge row ``name`` into ``cfg`` (in place; returns ``cfg``).

    A protocol whose pair draw has none of the rows' notions (CamVid's
    sparse-label pairs: always the labelled frame and a neighbour) says
    which ``train_dataset`` keys apply with a top-level
    ``row_train_dataset_keys = [...]``; the others are skipped and listed in
    ``cfg.ablation_skipped``.
    """
    row = load_row(name)
    cfg.merge_from_dict(dict(model=row['model']))
    keys = cfg.get('row_train_dataset_keys')
    train_ds = dict(row['train_dataset'])
    if keys is not None:
        cfg['ablation_skipped'] = sorted(set(train_ds) - set(keys))
        train_ds = {k: v for k, v in train_ds.items() if k in keys}
    if train_ds:
        ds = _train_dataset(cfg)
        merged = Config(dict(d=ds.to_dict() if hasattr(ds, 'to_dict')
                             else dict(ds)))
        merged.merge_from_dict(dict(d=train_ds))
        ds.clear()
        ds.update(merged.d.to_dict())
    if row['metrics'] == 'seg':
        for key in ('val_evaluator', 'test_evaluator'):
            if key in cfg:
                cfg[key] = _drop_flow_metrics(cfg[key])
    cfg['ablation_row'] = row['name']
    return cfg


def compose(protocol: str, name: str) -> Config:
    """The config of row ``name`` on ``protocol`` (a config path)."""
    return apply_row(Config.fromfile(protocol), name)
