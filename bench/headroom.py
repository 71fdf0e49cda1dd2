"""Headroom of a semi-supervised protocol first, then the method's share of it.

A protocol can only show what unlabelled data adds if labelling it would
add something: ``headroom = mean(oracle) - mean(baseline)`` mIoU, where the
*baseline* trains on the labelled snippets only and the *oracle* on every
snippet with its label. Each EFC row then reports its gain over the
baseline (mean and sample std over seeds) and that gain as a percentage of
the headroom. A protocol whose headroom is under ``--min-headroom`` (3 mIoU)
is marked unable to show the method (``"can_show_method": false``).

Default protocol: ``configs/synthetic_headroom/`` (6 labelled + 42
unlabelled snippets of the synthetic world, tiny PSP-style model from
scratch). Each (row, seed) trains with ``tools/train.py CONFIG [--row ROW]``
in its own process (``OMP_NUM_THREADS=1``, ``--jobs`` at a time, the
schedule and seed of ``efc_ablation.schedule_base_opts``), its final mIoU
is read from mmengine's ``scalars.json``; finished runs are reused, so the
command can be resumed.

Writes ``--out`` (default ``bench/results/headroom_synthetic.json``)::

    {"protocols": [{"protocol": "synthetic 6/48 labelled snippets",
      "encoder": "scratch", "iterations": N, "headroom": x,
      "headroom_std": s, "can_show_method": bool, "note": ...,
      "rows": [{"name": "baseline" | "oracle" | "EFC" | ..., "config": ...,
                "row": ROW | null, "seeds": [...], "mIoU": [per seed],
                "EPE_all": [per seed] | null, "TC": [...] | null}],
      "gains": {"EFC": {"mean": g, "std": s, "pct_of_headroom": p,
                        "seeds": [...]}}}]}

merged by (protocol, encoder) into an existing file (other entries are
kept), and a markdown table of every entry beside it (``.md``).

Arithmetic: over the seeds both rows finished, ``headroom`` is the mean of
the per-seed differences oracle - baseline (= the difference of the means)
and ``headroom_std`` their sample std; a row's gain is the same for
row - baseline; ``pct_of_headroom = 100 * gain / headroom`` (null when the
headroom is not positive). A std needs two seeds (null with one).

An optional reference row ``control`` (``--configs control=CFG``): the
segmentor alone on the EFC rows' own two-stream batches
(``psp_seg_twostream_tiny_headroom.py``). ``EFCSegmentor`` initialises its
flow branch on a random stream of its own, so at the same seed an EFC row
and the control start from the same segmentor weights and see the same
batches and dropout draws: their per-seed difference (``control_mean``,
``control_std``, ``control_seeds`` in a row's gains) is paired and carries
no initialisation luck.

Usage::

    python bench/headroom.py [--seeds 0 1 2] [--iters 1000] [--jobs 2]
        [--efc-rows NAME=CONFIG[:ROW] ...] [--encoder scratch]
        [--configs baseline=CFG,oracle=CFG,EFC=CFG] [--collect-only]
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from efc_ablation import (_mean_std, last_checkpoint, launch,  # noqa
                          read_scalars, schedule_base_opts, tc_of,
                          work_dir, write_results)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join('configs', 'synthetic_headroom')
#: the three rows every protocol needs: name -> config
CONFIGS = {
    'baseline': osp.join(CFG, 'psp_baseline_tiny_headroom.py'),
    'oracle': osp.join(CFG, 'psp_oracle_tiny_headroom.py'),
    'EFC': osp.join(CFG, 'psp_efc_tiny_headroom.py'),
}
REFERENCE_ROWS = ('baseline', 'oracle', 'control')
PROTOCOL = 'synthetic 6/48 labelled snippets'
#: below this headroom (mIoU) a protocol cannot show the method
MIN_HEADROOM = 3.0
METRICS = ('mIoU', 'EPE_all', 'TC')


# ------------------------------------------------------------- row specs
def parse_spec(spec: str):
    """``NAME=CONFIG[:ROW]`` -> ``(name, config, row or None)``; ROW is an
    efc_mm.ablation row applied with ``tools/train.py CONFIG --row ROW``."""
    if '=' not in spec:
        raise ValueError(f'row spec {spec!r}: expected NAME=CONFIG[:ROW]')
    name, rest = spec.split('=', 1)
    cfg, row = rest, None
    m = re.match(r'^(.*\.py):([^/\\]+)$', rest)
    if m:
        cfg, row = m.group(1), m.group(2)
    if not name or not cfg:
        raise ValueError(f'row spec {spec!r}: expected NAME=CONFIG[:ROW]')
    return name, cfg, row


def row_specs(configs: str = None, efc_rows=()) -> list:
    """``[(name, config, row)]``: baseline, oracle, EFC (``--configs``
    replaces any of them, comma-separated specs) and the extra EFC rows."""
    specs = {n: (n, c, None) for n, c in CONFIGS.items()}
    for spec in (configs.split(',') if configs else []):
        if spec.strip():
            name, cfg, row = parse_spec(spec.strip())
            specs[name] = (name, cfg, row)
    for spec in efc_rows or ():
        name, cfg, row = parse_spec(spec)
        if name in REFERENCE_ROWS:
            raise ValueError(f'--efc-rows {spec!r}: {name!r} is a reference '
                             'row (set it with --configs)')
        specs[name] = (name, cfg, row)
    return list(specs.values())


def slug(text: str) -> str:
    return re.sub(r'[^A-Za-z0-9.+-]+', '_', text).strip('_')


def run_root(work_root: str, protocol: str, encoder: str) -> str:
    """Work dirs of one (protocol, encoder): ``work_root/<slug>``."""
    return osp.join(work_root, slug(f'{protocol}_{encoder}'))


# -------------------------------------------------------------- training
def _datasets(node):
    """Every dataset dict (with a ``type``) inside a dataloader's
    ``dataset``, wrappers' sources included."""
    if isinstance(node, dict):
        if 'type' in node and ('data_root' in node or 'sources' in node
                               or 'dataset' in node):
            yield node
        for v in node.values():
            yield from _datasets(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _datasets(v)


def prepare_worlds(configs, log) -> float:
    """Generate every synthetic world the configs' dataloaders name, once,
    before parallel runs would each try (the datasets also do it on first
    use); returns the seconds it took."""
    from mmengine.config import Config
    from efc_mm.datasets.synthetic_world import prepare_world
    t0 = time.time()
    done = set()
    for path in configs:
        cfg = Config.fromfile(osp.join(REPO, path))
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            for ds in _datasets(cfg.get(key, {}).get('dataset', {})):
                worlds = [(ds.get('data_root'), ds.get('world'))]
                if ds.get('unlabelled_world') and ds.get('with_unlabelled'):
                    unl = dict(ds['unlabelled_world'])
                    worlds.append((unl.pop('root', None), unl))
                for root, world in worlds:
                    if not world or not root:
                        continue
                    ident = (root, json.dumps(dict(world), sort_keys=True))
                    if ident not in done:
                        prepare_world(root, dict(world))
                        done.add(ident)
    dt = time.time() - t0
    log(f'worlds ready ({len(done)}, {dt:.1f} s)')
    return dt


def finished(wd: str, iters: int) -> bool:
    recs = read_scalars(wd)
    return osp.exists(last_checkpoint(wd, iters)) and bool(recs) and \
        recs[-1]['step'] == iters


def train(spec, seed: int, iters: int, root: str, log,
          val_pairs: int = None) -> str:
    """Train one (row, seed) unless it finished already; returns the work
    dir."""
    name, cfg, row = spec
    wd = work_dir(root, name, seed, iters)
    if finished(wd, iters):
        log(f'{name} seed {seed}: done already ({wd})')
        return wd
    opts = schedule_base_opts(seed, iters)
    if val_pairs:
        for key in ('val_dataloader', 'test_dataloader'):
            opts.append(f'{key}.dataset.indices={val_pairs}')
    t0 = time.time()
    launch(cfg, wd, opts, log, f'{name} seed {seed}', row=row)
    log(f'{name} seed {seed}: {time.time() - t0:.0f} s')
    return wd


# ------------------------------------------------------------ arithmetic
def _std(vals):
    import numpy as np
    return float(np.std(vals, ddof=1)) if len(vals) > 1 else None


def paired_difference(a: dict, b: dict):
    """``(mean, sample std, seeds)`` of ``a[seed] - b[seed]`` over the seeds
    both have (``{seed: value}``); ``(None, None, [])`` without any."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None, None, []
    diffs = [a[s] - b[s] for s in seeds]
    return sum(diffs) / len(diffs), _std(diffs), seeds


def summarise(rows: list, min_headroom: float = MIN_HEADROOM) -> dict:
    """Headroom, its flag and every EFC row's gain from collected rows
    (dicts with ``name``, ``seeds``, ``mIoU``)."""
    by = {r['name']: dict(zip(r['seeds'], r['mIoU'] or [])) for r in rows}
    base = by.get('baseline', {})
    headroom, headroom_std, hseeds = paired_difference(
        by.get('oracle', {}), base)
    out = dict(headroom=headroom, headroom_std=headroom_std,
               headroom_seeds=hseeds, min_headroom=min_headroom)
    if headroom is None:
        out['can_show_method'] = None
        out['note'] = ('headroom not measured: the baseline and the oracle '
                       'have no finished seed in common')
    elif headroom < min_headroom:
        out['can_show_method'] = False
        out['note'] = (
            f'Headroom {headroom:.2f} mIoU < {min_headroom:g}: labelling '
            'every snippet gains the baseline less than '
            f'{min_headroom:g} mIoU, so this protocol cannot show what a '
            'semi-supervised method adds.')
    else:
        out['can_show_method'] = True
        out['note'] = None
    gains = {}
    for r in rows:
        if r['name'] in REFERENCE_ROWS:
            continue
        mean, std, seeds = paired_difference(by[r['name']], base)
        pct = None
        if mean is not None and headroom is not None and headroom > 0:
            pct = 100.0 * mean / headroom
        gains[r['name']] = dict(mean=mean, std=std, pct_of_headroom=pct,
                                seeds=seeds)
        if 'control' in by:
            # paired with the control row: the segmentor on the EFC row's
            # own batches, same seed, same initialisation (common random
            # numbers, EFCSegmentor.init_weights)
            cm, cs, cseeds = paired_difference(by[r['name']], by['control'])
            gains[r['name']].update(control_mean=cm, control_std=cs,
                                    control_seeds=cseeds)
    out['gains'] = gains
    return out


def collect(specs, seeds, iters, root, protocol=PROTOCOL,
            encoder='scratch', min_headroom=MIN_HEADROOM) -> dict:
    """One protocol entry of the JSON from the runs' ``scalars.json``."""
    rows = []
    for name, cfg, row in specs:
        entry = dict(name=name, config=cfg, row=row, seeds=[],
                     **{m: [] for m in METRICS})
        for seed in seeds:
            recs = read_scalars(work_dir(root, name, seed, iters))
            if not recs or recs[-1]['step'] != iters:
                continue
            final = recs[-1]
            if final.get('mIoU') is None:
                continue
            entry['seeds'].append(seed)
            for m in METRICS:
                v = tc_of(final) if m == 'TC' else final.get(m)
                entry[m].append(None if v is None else float(v))
        for m in METRICS:
            if m != 'mIoU' and all(v is None for v in entry[m]):
                entry[m] = None
        rows.append(entry)
    res = dict(protocol=protocol, encoder=encoder, iterations=iters)
    summary = summarise(rows, min_headroom)
    gains = summary.pop('gains')
    res.update(summary)
    res['rows'] = rows
    res['gains'] = gains
    return res


def merge(existing: dict, entry: dict) -> dict:
    """``existing`` (the JSON, or None) with ``entry`` replacing the entry
    of the same (protocol, encoder), else appended."""
    protos = list((existing or {}).get('protocols', []))
    key = (entry['protocol'], entry['encoder'])
    for i, p in enumerate(protos):
        if (p.get('protocol'), p.get('encoder')) == key:
            protos[i] = entry
            break
    else:
        protos.append(entry)
    return dict(existing or {}, protocols=protos)


# -------------------------------------------------------------- markdown
def _fmt(v, digits=2, signed=False):
    if v is None:
        return '–'
    return f'{v:+.{digits}f}' if signed else f'{v:.{digits}f}'


def markdown(res: dict) -> str:
    lines = ['Headroom of each protocol (oracle: every snippet labelled, '
             'minus the baseline: the labelled snippets only) and each EFC '
             "row's gain over the baseline, mIoU, mean ± sample std over "
             'seeds; `bench/headroom.py`.']
    for p in res.get('protocols', []):
        flag = {True: 'yes', False: '**no**', None: '–'}[
            p.get('can_show_method')]
        floor = p.get('min_headroom', MIN_HEADROOM)
        lines += ['', f"### {p.get('protocol')}, encoder "
                  f"{p.get('encoder')}, {p.get('iterations', '?')} "
                  'iterations', '',
                  f"Headroom: {_fmt(p.get('headroom'))} ± "
                  f"{_fmt(p.get('headroom_std'))} mIoU "
                  f"(seeds {p.get('headroom_seeds', [])}); can show the "
                  f'method (headroom ≥ {floor:g}): {flag}', '',
                  '| row | config | seeds | mIoU | mIoU per seed | EPE all | '
                  'gain over baseline | % of headroom | gain over control '
                  '(paired) |',
                  '|---|---|---|---|---|---|---|---|---|']
        gains = p.get('gains', {})
        for r in p.get('rows', []):
            cfg = osp.basename(r['config']) + \
                (f" --row {r['row']}" if r.get('row') else '')
            per = ' / '.join(_fmt(v) for v in r['mIoU']) or '–'
            g = gains.get(r['name'])
            gain = '–' if not g or g['mean'] is None else \
                f"{_fmt(g['mean'], signed=True)} ± {_fmt(g['std'])}"
            pct = '–' if not g else _fmt(g['pct_of_headroom'], 0)
            if pct != '–':
                pct += ' %'
            epe = _mean_std(r['EPE_all']) if r.get('EPE_all') else '–'
            ctl = '–' if not g or g.get('control_mean') is None else \
                f"{_fmt(g['control_mean'], signed=True)} ± " \
                f"{_fmt(g['control_std'])}"
            lines.append(f"| {r['name']} | `{cfg}` | {len(r['seeds'])} | "
                         f"{_mean_std(r['mIoU'])} | {per} | {epe} | {gain} "
                         f"| {pct} | {ctl} |")
        if p.get('note'):
            lines += ['', p['note']]
    return '\n'.join(lines) + '\n'


# ------------------------------------------------------------------ main
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--iters', type=int, default=1000)
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--configs', default=None,
                   help='comma-separated NAME=CONFIG[:ROW] replacing the '
                   'default baseline / oracle / EFC configs (another '
                   'encoder: baseline=...,oracle=...,EFC=...)')
    p.add_argument('--efc-rows', nargs='+', default=[],
                   metavar='NAME=CONFIG[:ROW]',
                   help='extra EFC rows; ROW: an efc_mm.ablation row applied '
                   'with tools/train.py CONFIG --row ROW')
    p.add_argument('--rows', nargs='+', default=None,
                   help='train only these row names (all are collected)')
    p.add_argument('--protocol', default=PROTOCOL,
                   help='the entry\'s protocol label')
    p.add_argument('--encoder', default='scratch',
                   help='the entry\'s encoder label (e.g. efficientnet_lite0)')
    p.add_argument('--min-headroom', type=float, default=MIN_HEADROOM)
    p.add_argument('--val-pairs', type=int, default=None,
                   help='validate on the first N pairs only (smoke runs)')
    p.add_argument('--work-root', default=osp.join('work_dirs', 'headroom'))
    p.add_argument('--out', default=osp.join('bench', 'results',
                                             'headroom_synthetic.json'))
    p.add_argument('--collect-only', action='store_true',
                   help='only read finished runs and write the results')
    a = p.parse_args(argv)
    os.chdir(REPO)
    t0 = time.time()

    def log(msg):
        print(f'[{time.time() - t0:7.0f} s] {msg}', flush=True)

    specs = row_specs(a.configs, a.efc_rows)
    root = run_root(a.work_root, a.protocol, a.encoder)
    world_s = None
    if not a.collect_only:
        todo = [s for s in specs if a.rows is None or s[0] in a.rows]
        world_s = prepare_worlds(sorted({s[1] for s in todo}), log)

        def safe(spec, seed):
            try:
                train(spec, seed, a.iters, root, log, a.val_pairs)
            except RuntimeError as e:
                log(f'{spec[0]} seed {seed}: {e}')

        runs = [(s, seed) for seed in a.seeds for s in todo]
        with ThreadPoolExecutor(a.jobs) as ex:
            list(ex.map(lambda rs: safe(*rs), runs))
        log('all runs done')
    entry = collect(specs, a.seeds, a.iters, root, a.protocol, a.encoder,
                    a.min_headroom)
    entry['work_root'] = root
    if not a.collect_only:
        entry['wall_time_s'] = round(time.time() - t0)
        entry['world_prepare_s'] = round(world_s, 1)
    existing = None
    if osp.exists(a.out):
        with open(a.out) as f:
            existing = json.load(f)
    res = merge(existing, entry)
    write_results(res, a.out, markdown(res))


if __name__ == '__main__':
    main()
