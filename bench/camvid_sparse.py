"""EFC vs the seg-only baseline on a real video with sparse labels (CamVid).

CamVid's 15 Hz labelled sequence (``val/``, 0016E5, 101 consecutive frames)
trained with 1 labelled frame per second (every 15th frame: 7 labelled
frames, the other 94 unlabelled), evaluated on the 94 frames whose labels
were not used (mIoU) and on all 100 consecutive pairs (temporal consistency
with OpenCV's DIS flow, the same flow for both models). Configs:
``configs/camvid_sparse/`` (data: ``configs/_base_/datasets/
camvid_sparse.py``; root ``$EFC_CAMVID_ROOT``, default
``../shared/data/camvid/``).

Each (row, seed) trains with ``tools/train.py`` in its own process
(``OMP_NUM_THREADS=1``, ``--threads 1``, ``--jobs`` processes at a time),
validates 4 times (learning curve) and its metrics are read from mmengine's
``scalars.json`` (helpers of :mod:`efc_ablation`). Finished runs are reused,
so the command can be resumed.

Writes ``--out`` (default ``bench/results/camvid_sparse.json``)::

    {"iterations": N, "rows": [{"name": "baseline" | "EFC", "config": ...,
      "seeds": [...], "mIoU": [per seed], "TC": [per seed],
      "curve": {"iter": [...], "mIoU": [[per seed] per eval],
                "TC": [[per seed] per eval]}}, ...]}

and a markdown table beside it (mean +- sample std over seeds, per-seed
values, EFC - baseline).

Usage::

    python bench/camvid_sparse.py [--rows baseline EFC] [--seeds 0 1 2]
        [--iters 1000] [--jobs 2] [--val-pairs N] [--out JSON]
"""
import argparse
import os
import os.path as osp
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from efc_ablation import (_mean_std, last_checkpoint, launch,  # noqa
                          read_scalars, schedule_base_opts,
                          tc_of, work_dir, write_results)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join('configs', 'camvid_sparse')
#: row name -> config
ROWS = {
    'baseline': 'psp_baseline_tiny_camvid_sparse.py',
    'EFC': 'psp_efc_tiny_camvid_sparse.py',
    # exploration: the flow branch on its own encoder copy
    'EFC_sep_enc': 'psp_efc_tiny_camvid_sparse_sep_enc.py',
}
METRICS = ('mIoU', 'TC')


def train(row: str, seed: int, iters: int, root: str, log,
          val_pairs: int = None) -> str:
    """Train one (row, seed) unless it finished already; returns the work
    dir. ``val_pairs`` limits validation to the first N pairs (smoke
    runs)."""
    wd = work_dir(root, row, seed, iters)
    recs = read_scalars(wd)
    if osp.exists(last_checkpoint(wd, iters)) and recs and \
            recs[-1]['step'] == iters:
        log(f'{row} seed {seed}: done already ({wd})')
        return wd
    cfg = osp.join(CFG, ROWS[row])
    opts = schedule_base_opts(seed, iters)  # loss schedules: fractions
    if val_pairs:
        opts.append(f'val_dataloader.dataset.indices={val_pairs}')
    t0 = time.time()
    launch(cfg, wd, opts, log, f'{row} seed {seed}')
    log(f'{row} seed {seed}: {time.time() - t0:.0f} s')
    return wd


def collect(rows, seeds, iters, root) -> dict:
    """The bench's JSON from the runs' ``scalars.json``."""
    out = dict(iterations=iters, rows=[])
    for row in rows:
        entry = dict(name=row, config=osp.join(CFG, ROWS[row]), seeds=[],
                     mIoU=[], TC=[], curve=dict(iter=[], mIoU=[], TC=[]))
        curves = []
        for seed in seeds:
            recs = read_scalars(work_dir(root, row, seed, iters))
            if not recs or recs[-1]['step'] != iters:
                continue
            entry['seeds'].append(seed)
            entry['mIoU'].append(float(recs[-1]['mIoU']))
            tc = tc_of(recs[-1])
            entry['TC'].append(None if tc is None else float(tc))
            curves.append({r['step']: (r.get('mIoU'), tc_of(r))
                           for r in recs})
        steps = sorted(set().union(*curves)) if curves else []
        entry['curve']['iter'] = steps
        for k, m in enumerate(METRICS):
            entry['curve'][m] = [[c.get(s, (None, None))[k] for c in curves]
                                 for s in steps]
        out['rows'].append(entry)
    return out


def markdown(res: dict) -> str:
    """Mean +- sample std over seeds, the per-seed values and EFC minus the
    baseline."""
    lines = [
        f"CamVid 15 Hz sequence (0016E5), 1 labelled frame per second (7 of "
        f"101), {res['iterations']} iterations, mean ± std (sample std) "
        'over seeds; mIoU on the 94 held-out frames, TC on the 100 '
        'consecutive pairs with DIS flow; `bench/camvid_sparse.py`.', '',
        '| row | seeds | mIoU | TC | mIoU per seed | TC per seed |',
        '|---|---|---|---|---|---|']
    fmt = lambda vs: ' / '.join('–' if v is None else f'{v:.2f}'  # noqa
                                for v in vs)
    for r in res['rows']:
        lines.append(f"| {r['name']} | {len(r['seeds'])} | "
                     f"{_mean_std(r['mIoU'])} | {_mean_std(r['TC'])} | "
                     f"{fmt(r['mIoU'])} | {fmt(r['TC'])} |")
    by = {r['name']: r for r in res['rows']}
    if 'baseline' in by and 'EFC' in by:
        import numpy as np
        diffs = [f'{m} {np.mean(by["EFC"][m]) - np.mean(by["baseline"][m]):+.2f}'
                 for m in METRICS if by['EFC'][m] and by['baseline'][m] and
                 None not in by['EFC'][m] + by['baseline'][m]]
        if diffs:
            lines += ['', 'EFC - baseline (means): ' + ', '.join(diffs)]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rows', nargs='+', default=['baseline', 'EFC'],
                   choices=list(ROWS))
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--iters', type=int, default=1000)
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--val-pairs', type=int, default=None,
                   help='validate on the first N consecutive pairs only '
                   '(smoke runs; the default evaluates all 100)')
    p.add_argument('--work-root',
                   default=osp.join('work_dirs', 'camvid_sparse'))
    p.add_argument('--out', default=osp.join('bench', 'results',
                                             'camvid_sparse.json'))
    p.add_argument('--collect-only', action='store_true',
                   help='only read finished runs and write the results')
    a = p.parse_args(argv)
    os.chdir(REPO)
    t0 = time.time()

    def log(msg):
        print(f'[{time.time() - t0:7.0f} s] {msg}', flush=True)

    if not a.collect_only:
        def safe(row, seed):
            try:
                train(row, seed, a.iters, a.work_root, log, a.val_pairs)
            except RuntimeError as e:
                log(f'{row} seed {seed}: {e}')

        runs = [(r, s) for s in a.seeds for r in a.rows]
        with ThreadPoolExecutor(a.jobs) as ex:
            list(ex.map(lambda rs: safe(*rs), runs))
        log('all runs done')
    res = collect(a.rows, a.seeds, a.iters, a.work_root)
    if not a.collect_only:
        res['wall_time_s'] = round(time.time() - t0)
    write_results(res, a.out, markdown(res))


if __name__ == '__main__':
    main()
