"""The paper's ablation rows (Tables 1-2) on the synthetic world, several seeds.

Every row is defined once in ``configs/_base_/ablation/`` and applied to the
synthetic protocol ``configs/synthetic/psp_efc_tiny_synthetic.py`` (one
labelled frame in 30, the tiny PSP-style model of the quick start; loss
schedules are fractions of the run, so ``--iters`` rewrites nothing). Each
(row, seed) trains with ``tools/train.py PROTOCOL --row ROW`` in its own
process
(``OMP_NUM_THREADS=1``, ``--jobs`` processes at a time), evaluates on every
consecutive val pair at each ``val_interval`` (learning curves) and at the
end, and its final metrics are read from mmengine's ``scalars.json``.
Finished runs are reused (a rerun only trains what is missing), so the
command can be resumed.

Writes ``--out`` (default ``bench/results/efc_ablation_synthetic.json``)::

    {"iterations": N, "rows": [{"name": ..., "config": ..., "seeds": [...],
      "mIoU": [per seed], "EPE_all": [...], "EPE_noc": [...],
      "Fl_all": [...], "Occ_F1": [...], "TC": [...],
      "curve": {"iter": [...], "mIoU": [[per seed] per eval]}}, ...]}

a metric a row does not have is ``null``; plus a markdown table beside it
(mean +- std over seeds) and ``<out>_curves.png`` (mIoU over
iterations of every seed: baseline, full EFC and the exploration rows).

Usage::

    python bench/efc_ablation.py [--rows baseline full ...] [--seeds 0 1 2]
        [--iters 1000] [--jobs 2] [--out JSON]

Rows (``efc_mm.ablation.row_names()``): ``baseline``, ``TCC_fix``,
``TCC_single``, ``TCC_single+OM``, ``TCC_multi+OM``, ``UD``, ``UL``,
``UL+OE``, ``UL+TC``, ``UL+OE+TC``, ``full`` and exploration rows.
``TCC_fix`` needs the ``UL`` run of the same seed (its frozen flow network,
passed as ``EFC_FLOW_CHECKPOINT``) and is scheduled after it. On this
protocol ``full`` and ``UD`` are the same run configuration (the protocol
draws extra unlabelled snippets from a second world, generated on first
use).
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: the synthetic protocol; every row is applied to it with
#: ``tools/train.py PROTOCOL --row NAME`` (rows: efc_mm.ablation)
PROTOCOL = osp.join('configs', 'synthetic', 'psp_efc_tiny_synthetic.py')
#: the rows of the paper's Tables 1-2, the default of --rows
PAPER_ROWS = ('baseline', 'TCC_fix', 'TCC_single', 'TCC_single+OM',
              'TCC_multi+OM', 'UD', 'UL', 'UL+OE', 'UL+TC', 'UL+OE+TC',
              'full')
METRICS = ('mIoU', 'EPE_all', 'EPE_noc', 'Fl_all', 'Occ_F1', 'TC')
_CONFIG_LOCK = threading.Lock()


def row_kind(row: str) -> str:
    """``'seg'``, ``'flow'`` or ``'all'``: the metrics row ``row`` has
    (read from its definition in configs/_base_/ablation/)."""
    from efc_mm.ablation import load_row
    with _CONFIG_LOCK:  # mmengine's config parser is not thread-safe
        return load_row(row)['metrics']


def all_rows() -> list:
    from efc_mm.ablation import row_names
    return [r for r in row_names() if r != 'paper']


def prepare_worlds(protocol: str = PROTOCOL) -> None:
    """Generate the protocol's worlds once, before parallel runs would each
    try (the datasets also generate them on first use)."""
    from mmengine.config import Config
    from efc_mm.datasets.synthetic_world import prepare_world
    cfg = Config.fromfile(osp.join(REPO, protocol))
    ds = cfg.train_dataloader.dataset
    prepare_world(ds.data_root, ds.get('world'))
    unl = dict(ds.get('unlabelled_world') or {})
    if unl:
        prepare_world(unl.pop('root'), unl)


def work_dir(root: str, row: str, seed: int, iters: int) -> str:
    return osp.join(root, f'{row}_it{iters}_s{seed}')


def last_checkpoint(wd: str, iters: int) -> str:
    return osp.join(wd, f'iter_{iters}.pth')


def schedule_base_opts(seed: int, iters: int) -> list:
    """``--cfg-options`` of one bench run: the seed, ``iters`` iterations
    with PolyLR to the end, validation after each quarter and a checkpoint
    at the end."""
    return [f'randomness.seed={seed}', f'train_cfg.max_iters={iters}',
            f'train_cfg.val_interval={max(iters // 4, 1)}',
            f'param_scheduler.0.end={iters}',
            f'default_hooks.checkpoint.interval={iters}']


def launch(cfg: str, wd: str, opts: list, log, label: str,
           deadline: float = None, row: str = None, env: dict = None) -> bool:
    """``tools/train.py cfg`` in its own process (one thread), output in
    ``wd/bench_stdout.log``. Returns True when it finished, False when it
    was killed at ``deadline`` (``time.time()`` value); raises
    RuntimeError when it failed."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               **(env or {}))
    cmd = [sys.executable, 'tools/train.py', cfg, '--threads', '1',
           '--work-dir', wd] + (['--row', row] if row else []) + \
        ['--cfg-options', *opts]
    os.makedirs(wd, exist_ok=True)
    t0 = time.time()
    log(f'{label}: training ({" ".join(cmd)})')
    with open(osp.join(wd, 'bench_stdout.log'), 'w') as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            rc = proc.wait(None if deadline is None else
                           max(deadline - time.time(), 1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            log(f'{label}: killed at the deadline after '
                f'{time.time() - t0:.0f} s')
            return False
    if rc != 0:
        raise RuntimeError(f'{label} failed (exit {rc}); see '
                           f'{osp.join(wd, "bench_stdout.log")}')
    return True


def train(row: str, seed: int, iters: int, root: str, log,
          deadline: float = None) -> str:
    """Train one (row, seed) unless its final checkpoint exists; returns the
    work dir. A run still going at ``deadline`` (``time.time()`` value) is
    killed; its validation records so far stay in its work dir."""
    wd = work_dir(root, row, seed, iters)
    if osp.exists(last_checkpoint(wd, iters)) and read_scalars(wd):
        log(f'{row} seed {seed}: done already ({wd})')
        return wd
    if deadline is not None and time.time() > deadline - 30:
        log(f'{row} seed {seed}: not started (deadline)')
        return wd
    opts = schedule_base_opts(seed, iters)
    env = {}
    if row == 'TCC_fix':
        ul = last_checkpoint(work_dir(root, 'UL', seed, iters), iters)
        if not osp.exists(ul):
            raise FileNotFoundError(f'TCC_fix seed {seed} needs {ul} (run '
                                    'the UL row first)')
        env['EFC_FLOW_CHECKPOINT'] = osp.abspath(ul)
    t0 = time.time()
    if not launch(PROTOCOL, wd, opts, log, f'{row} seed {seed}', deadline,
                  row=row, env=env):
        return wd
    log(f'{row} seed {seed}: {time.time() - t0:.0f} s')
    return wd


#: test-time override: every consecutive pair of the *training* snippets
#: (their unlabelled frames were seen in training without labels; the world
#: renders a label for every frame, so they can be scored)
TRAIN_FRAMES = dict(img_path='leftImg8bit_sequence/train',
                    seg_map_path='gtFine/train',
                    seq_seg_map_path='gtFine_sequence/train',
                    flow_occ_path='flow_occ/train',
                    flow_noc_path='flow_noc/train')


def eval_train_frames(row: str, seed: int, iters: int, root: str,
                      log) -> dict:
    """Score a finished run's final checkpoint on every consecutive pair of
    the training snippets (29 pairs per snippet: the labelled frame is 1 of
    each snippet's 30 frames); metrics dict, cached in the work dir."""
    wd = work_dir(root, row, seed, iters)
    ckpt = last_checkpoint(wd, iters)
    out_dir = osp.join(wd, 'test_train_frames')
    found = sorted(glob.glob(osp.join(out_dir, '*', '*.json')))
    if found:
        with open(found[-1]) as f:
            return json.load(f)
    if not osp.exists(ckpt):
        log(f'{row} seed {seed}: no {ckpt}, not scored on training frames')
        return {}
    opts = [f'test_dataloader.dataset.data_prefix.{k}={v}'
            for k, v in TRAIN_FRAMES.items()]
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    cmd = [sys.executable, 'tools/test.py', PROTOCOL, ckpt, '--row', row,
           '--threads', '1', '--work-dir', out_dir, '--cfg-options', *opts]
    t0 = time.time()
    with open(osp.join(wd, 'test_train_frames.log'), 'w') as out:
        rc = subprocess.call(cmd, cwd=REPO, env=env, stdout=out,
                             stderr=subprocess.STDOUT)
    found = sorted(glob.glob(osp.join(out_dir, '*', '*.json')))
    if rc != 0 or not found:
        log(f'{row} seed {seed}: training-frame test failed (exit {rc})')
        return {}
    log(f'{row} seed {seed}: scored on training frames '
        f'({time.time() - t0:.0f} s)')
    with open(found[-1]) as f:
        return json.load(f)


def read_scalars(wd: str) -> list:
    """Validation records (dicts with ``step``) of a run's scalars.json."""
    files = sorted(glob.glob(osp.join(wd, '*', 'vis_data', 'scalars.json')))
    recs = []
    for f in files:
        with open(f) as fh:
            for line in fh:
                rec = json.loads(line)
                if 'mIoU' in rec or 'EPE_all' in rec:
                    recs.append(rec)
    recs.sort(key=lambda r: r['step'])
    return recs


def tc_of(rec: dict):
    for k, v in rec.items():
        if k.startswith('TC(') or k.startswith('TC_etc('):
            return v
    return None


def collect(rows, seeds, iters, root) -> dict:
    """The JSON of the bench from the runs' logs."""
    out = dict(iterations=iters, rows=[])
    for row in rows:
        kind = row_kind(row)
        entry = dict(name=row, config=PROTOCOL, row=row, seeds=[],
                     **{m: [] for m in METRICS},
                     curve=dict(iter=[], mIoU=[]))
        per_seed_curves = []
        partial = dict(seeds=[], step=[], **{m: [] for m in METRICS})
        by_iter = {}  # every seed's validations, stopped runs included
        for seed in seeds:
            recs = read_scalars(work_dir(root, row, seed, iters))
            if kind != 'flow':
                for r in recs:
                    if r.get('mIoU') is not None:
                        by_iter.setdefault(str(r['step']), []).append(
                            float(r['mIoU']))
            if recs and recs[-1]['step'] < iters:
                # stopped early (a deadline): its last validation, apart
                last = recs[-1]
                partial['seeds'].append(seed)
                partial['step'].append(last['step'])
                for m in METRICS:
                    v = tc_of(last) if m == 'TC' else last.get(m)
                    if m in ('mIoU', 'TC', 'Occ_F1') and kind == 'flow':
                        v = None
                    partial[m].append(None if v is None else float(v))
            if not recs or recs[-1]['step'] != iters:
                continue
            final = recs[-1]
            entry['seeds'].append(seed)
            for m in METRICS:
                v = tc_of(final) if m == 'TC' else final.get(m)
                if m in ('mIoU', 'TC', 'Occ_F1') and kind == 'flow':
                    v = None  # no segmentation / occlusion trained
                entry[m].append(None if v is None else float(v))
            per_seed_curves.append({r['step']: r.get('mIoU') for r in recs})
        steps = sorted(set().union(*[set(c) for c in per_seed_curves])) \
            if per_seed_curves else []
        entry['curve']['iter'] = steps
        entry['curve']['mIoU'] = [[c.get(s) for c in per_seed_curves]
                                  for s in steps]
        for m in METRICS:
            if all(v is None for v in entry[m]):
                entry[m] = None
        if partial['seeds']:
            entry['partial'] = partial
        if by_iter:
            entry['mIoU_by_iter'] = by_iter
        out['rows'].append(entry)
    return out


def _mean_std(vals):
    import numpy as np
    if not vals or any(v is None for v in vals):
        return '–'
    a = np.asarray(vals, float)
    return f'{a.mean():.2f} ± {a.std(ddof=1) if len(a) > 1 else 0:.2f}'


def write_results(res: dict, out: str, md: str) -> None:
    """Write a bench's JSON to ``out`` and its markdown table beside it
    (``.md``), and print the table."""
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(res, f, indent=1)
    with open(osp.splitext(out)[0] + '.md', 'w') as f:
        f.write(md)
    print(md)


def markdown(res: dict) -> str:
    lines = [f"Synthetic world, {res['iterations']} iterations, mean ± std "
             '(sample std) over seeds; `bench/efc_ablation.py`.', '',
             '| row | seeds | mIoU | EPE all | EPE noc | Fl-all | Occ F1 | '
             'TC |', '|---|---|---|---|---|---|---|---|']
    for r in res['rows']:
        cells = [_mean_std(r[m]) if r[m] is not None else '–'
                 for m in METRICS]
        lines.append(f"| {r['name']} | {len(r['seeds'])} | " +
                     ' | '.join(cells) + ' |')
    stopped = [r for r in res['rows'] if r.get('partial')]
    if stopped:
        lines += ['', 'Runs stopped before the end (deadline), at their last '
                  'validation:', '',
                  '| row | seeds | at iteration | mIoU | EPE all | EPE noc | '
                  'Fl-all | Occ F1 | TC |',
                  '|---|---|---|---|---|---|---|---|---|']
        for r in stopped:
            p = r['partial']
            cells = [_mean_std(p[m]) if any(v is not None for v in p[m])
                     else '–' for m in METRICS]
            lines.append(f"| {r['name']} | {len(p['seeds'])} | "
                         f"{'/'.join(str(s) for s in p['step'])} | " +
                         ' | '.join(cells) + ' |')
    steps = sorted({int(k) for r in res['rows']
                    for k in r.get('mIoU_by_iter', {})})
    if steps:
        lines += ['', 'mIoU at each validation, every seed that reached it '
                  '(mean ± std, n):', '',
                  '| row | ' + ' | '.join(str(k) for k in steps) + ' |',
                  '|---|' + '---|' * len(steps)]
        for r in res['rows']:
            got = r.get('mIoU_by_iter')
            if not got:
                continue
            cells = [f"{_mean_std(got[str(k)])} ({len(got[str(k)])})"
                     if str(k) in got else '–' for k in steps]
            lines.append(f"| {r['name']} | " + ' | '.join(cells) + ' |')
    if res.get('note'):
        lines += ['', res['note']]
    return '\n'.join(lines) + '\n'


def plot_curves(res: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    colours = {'baseline': 'tab:blue', 'full': 'tab:red',
               'TCC_multi+OM_unl': 'tab:orange', 'no_cons': 'tab:green',
               'sep_enc_unl': 'tab:purple', 'UL+TC': 'tab:brown'}
    for r in res['rows']:
        if r['name'] not in colours or not r['curve']['iter']:
            continue
        steps = r['curve']['iter']
        for k in range(len(r['seeds'])):
            ys = [v[k] for v in r['curve']['mIoU']]
            ax.plot(steps, ys, color=colours[r['name']], alpha=0.8,
                    marker='o', label=r['name'] if k == 0 else None)
    ax.set_xlabel('iteration')
    ax.set_ylabel('val mIoU (%)')
    ax.set_title(f"synthetic world, 1 labelled frame in 30, "
                 f"{res['iterations']} iterations")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rows', nargs='+', default=list(PAPER_ROWS),
                   choices=all_rows())
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--iters', type=int, default=1000)
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--work-root', default=osp.join('work_dirs', 'ablation'))
    p.add_argument('--out', default=osp.join(
        'bench', 'results', 'efc_ablation_synthetic.json'))
    p.add_argument('--collect-only', action='store_true',
                   help='only read finished runs and write the results')
    p.add_argument('--eval-train-frames', action='store_true',
                   help='also score every finished run on all frames of the '
                   'training snippets (the labelled frame is 1 in 30 of '
                   'them); writes <out>_train_frames.json / .md')
    p.add_argument('--note', default=None,
                   help='a line stored in the JSON and under the table '
                   '(where and how the runs were made)')
    p.add_argument('--deadline', type=float, default=None,
                   help='seconds from the start after which unfinished runs '
                   'are killed and no new one starts (a device lease)')
    a = p.parse_args(argv)
    os.chdir(REPO)
    t0 = time.time()

    def log(msg):
        print(f'[{time.time() - t0:7.0f} s] {msg}', flush=True)

    if not a.collect_only:
        prepare_worlds()
        first = [(r, s) for r in a.rows if r != 'TCC_fix' for s in a.seeds]
        if 'TCC_fix' in a.rows and 'UL' not in a.rows:
            first += [('UL', s) for s in a.seeds]
        deadline = None if a.deadline is None else t0 + a.deadline

        def safe(row, seed):
            try:
                train(row, seed, a.iters, a.work_root, log, deadline)
            except (RuntimeError, FileNotFoundError) as e:
                log(f'{row} seed {seed}: {e}')

        with ThreadPoolExecutor(a.jobs) as ex:
            list(ex.map(lambda rs: safe(*rs), first))
            if 'TCC_fix' in a.rows:
                list(ex.map(lambda s: safe('TCC_fix', s), a.seeds))
        log('all runs done')
    res = collect(a.rows, a.seeds, a.iters, a.work_root)
    if not a.collect_only:
        res['wall_time_s'] = round(time.time() - t0)
    if a.note:
        res['note'] = a.note
    os.makedirs(osp.dirname(a.out), exist_ok=True)
    with open(a.out, 'w') as f:
        json.dump(res, f, indent=1)
    if a.eval_train_frames:
        tf = dict(iterations=a.iters, split='train snippets, every '
                  'consecutive pair', rows=[])
        jobs = [(r, s_) for r in a.rows for s_ in a.seeds]
        with ThreadPoolExecutor(a.jobs) as ex:
            got = list(ex.map(lambda rs: eval_train_frames(
                *rs, a.iters, a.work_root, log), jobs))
        for row in a.rows:
            entry = dict(name=row, seeds=[], **{m: [] for m in METRICS})
            for (r, seed), m_ in zip(jobs, got):
                if r != row or not m_:
                    continue
                entry['seeds'].append(seed)
                for m in METRICS:
                    v = tc_of(m_) if m == 'TC' else m_.get(m)
                    if m in ('mIoU', 'TC', 'Occ_F1') and \
                            row_kind(row) == 'flow':
                        v = None
                    entry[m].append(None if v is None else float(v))
            for m in METRICS:
                if all(v is None for v in entry[m]):
                    entry[m] = None
            tf['rows'].append(entry)
        stem = osp.splitext(a.out)[0] + '_train_frames'
        with open(stem + '.json', 'w') as f:
            json.dump(tf, f, indent=1)
        tmd = markdown(tf).replace(
            'mean ± std (sample std) over seeds',
            'scored on every frame of the 24 *training* snippets (29 '
            'consecutive pairs each; 1 frame in 30 was labelled in '
            'training), mean ± std (sample std) over seeds')
        with open(stem + '.md', 'w') as f:
            f.write(tmd)
        print(tmd)
    md = markdown(res)
    with open(osp.splitext(a.out)[0] + '.md', 'w') as f:
        f.write(md)
    plot_curves(res, osp.splitext(a.out)[0] + '_curves.png')
    print(md)


if __name__ == '__main__':
    main()
