"""Quick-start training speed: PyTorch's default CPU threads (what
tools/train.py used before it chose them) vs the tools' choice now (free
cores: CPUs minus the 1-minute load average; efc_mm.utils.cpu_threads).

Runs ``tools/train.py configs/quickstart/psp_efc_tiny_synthetic_cpu.py`` for
``--iters`` training iterations (no validation) in each mode, alternating
modes ``--rounds`` times, without OMP_NUM_THREADS in the environment, and
prints the wall time of each run, the median seconds per iteration from the
log (iterations after the first 10, which warm up), the threads chosen and
the load average at the start and end of each run.

    python bench/quickstart_threads.py --iters 40 --rounds 2

The world (data/efc_synthetic_quick) is generated first if missing, outside
the timing.
"""
import argparse
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = 'configs/quickstart/psp_efc_tiny_synthetic_cpu.py'


def run(mode, iters, default_threads):
    env = dict(os.environ)
    env.pop('OMP_NUM_THREADS', None)
    env.pop('PYTHONPATH', None)
    with tempfile.TemporaryDirectory() as wd:
        cmd = [sys.executable, 'tools/train.py', CFG, '--work-dir', wd,
               '--cfg-options', f'train_cfg.max_iters={iters}',
               'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
               'default_hooks.logger.interval=1']
        if mode == 'default':
            cmd[3:3] = ['--threads', str(default_threads)]
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                              text=True)
        wall = time.perf_counter() - t0
        load1 = os.getloadavg()[0]
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f'{mode} run failed:\n{log[-3000:]}')
    times = [float(t) for t in re.findall(
        r'Iter\(train\) \[\s*\d+/\d+\].*? time: ([\d.]+)', log)]
    chosen = re.search(r'CPU threads: (\d+)', log).group(1)
    return dict(mode=mode, wall=wall, iter_s=statistics.median(times[10:]),
                threads=chosen, load=(load0, load1))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--iters', type=int, default=40)
    ap.add_argument('--rounds', type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, REPO)
    import torch
    default_threads = torch.get_num_threads()
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, CFG))
    import efc_synthetic
    efc_synthetic.ensure_synthetic_world(
        osp.join(REPO, cfg.data_root), **cfg.world)
    print(f'quick start, {args.iters} iterations, PyTorch default threads '
          f'{default_threads}, CPUs {os.cpu_count()}', flush=True)
    for _ in range(args.rounds):
        for mode in ('default', 'auto'):
            r = run(mode, args.iters, default_threads)
            print(f'  {r["mode"]:8s} threads {r["threads"]}  wall '
                  f'{r["wall"]:6.1f} s  {r["iter_s"]:.3f} s/iter  load '
                  f'{r["load"][0]:.2f} -> {r["load"][1]:.2f}', flush=True)


if __name__ == '__main__':
    main()
