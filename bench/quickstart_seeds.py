"""Run the quick start over several seeds and print mean and spread.

Each (config, seed) is one ``tools/train.py`` run (train + the final
evaluation on the synthetic world's val pairs); ``--jobs`` runs go in
parallel (one thread each). The last ``Iter(val)`` line of each log gives
mIoU, EPE all / noc, Fl-all and TC. Example (the README's table)::

    python bench/quickstart_seeds.py --seeds 0 1 2 --jobs 2 \\
        --run efc=configs/quickstart/psp_efc_tiny_synthetic_cpu.py \\
        --run baseline=configs/quickstart/psp_baseline_tiny_synthetic_cpu.py

``--run NAME=CONFIG[::k=v,k=v]`` adds ``--cfg-options`` to a run.
"""
import argparse
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
KEYS = ('mIoU', 'EPE_all', 'EPE_noc', 'Fl_all', 'TC(flow=gt)')


def parse_last_val(log: str) -> dict:
    """Metrics of the last ``Iter(val) [n/n]`` line of an mmengine log."""
    lines = [ln for ln in log.splitlines()
             if re.search(r'Iter\(val\) \[(\d+)/\1\]', ln)]
    if not lines:
        raise RuntimeError('no final validation line in the log')
    return {k: float(v) for k, v in
            re.findall(r'(\S+): (-?[0-9.]+(?:e-?\d+)?)', lines[-1])}


def run_one(name, config, options, seed, work_root):
    wd = osp.join(work_root, f'{name}_seed{seed}')
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
           '--work-dir', wd, '--cfg-options', f'randomness.seed={seed}',
           *options]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True)
    log = proc.stdout + proc.stderr
    with open(wd + '.log', 'w') as f:
        f.write(log)
    if proc.returncode != 0:
        raise RuntimeError(f'{name} seed {seed} failed, see {wd}.log')
    res = parse_last_val(log)
    res['minutes'] = (time.time() - t0) / 60
    return name, seed, res


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--run', action='append', required=True,
                        help='NAME=CONFIG[::k=v,k=v]')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--work-root', default='work_dirs/quickstart_seeds')
    args = parser.parse_args(argv)
    runs = []
    for spec in args.run:
        name, rest = spec.split('=', 1)
        config, _, opts = rest.partition('::')
        runs.append((name, config, opts.split(',') if opts else []))
    jobs = [(n, c, o, s) for s in args.seeds for n, c, o in runs]
    os.makedirs(args.work_root, exist_ok=True)
    results = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, *j, args.work_root) for j in jobs]
        for fut in futures:
            name, seed, res = fut.result()
            results.setdefault(name, {})[seed] = res
            print(f'{name} seed {seed}: ' + ', '.join(
                f'{k} {res[k]:.2f}' for k in KEYS + ('minutes', )
                if k in res), flush=True)
    print('\n| run | seeds | ' + ' | '.join(KEYS) + ' |')
    print('|---|---|' + '---|' * len(KEYS))
    for name, _, _ in runs:
        per_seed = results[name]
        cells = []
        for k in KEYS:
            vals = [r[k] for r in per_seed.values() if k in r]
            if not vals:
                cells.append('n/a')
            elif len(vals) == 1:
                cells.append(f'{vals[0]:.2f}')
            else:
                cells.append(f'{statistics.mean(vals):.2f} ± '
                             f'{statistics.stdev(vals):.2f}')
        print(f'| {name} | {len(per_seed)} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
