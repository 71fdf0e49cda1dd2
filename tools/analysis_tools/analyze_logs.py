"""Plot losses and metrics from mmengine json logs (as mmseg's analyze_logs).

mmengine writes one json line per logging step to
``<work_dir>/<timestamp>/vis_data/<timestamp>.json`` (and the same lines to
``scalars.json``): training lines carry ``lr``, the losses
(``decode.loss_ce``, ``aux.loss_ce``, EFC's ``loss_pm``, ``loss_sm``,
``loss_occ``, ``loss_cons``, ...) and ``step`` (the iteration); validation
lines carry the metrics (``mIoU``, ``EPE_all``, ``TC(flow=gt)``, ...) at
the iteration they were computed. A LOG argument is such a json file or a
work dir (its newest ``vis_data/*.json`` is used).

Examples::

    # every loss and every metric, one panel each, two runs overlaid
    python tools/analysis_tools/analyze_logs.py plot_curve \\
        work_dirs/psp_efc_tiny_synthetic_cpu \\
        work_dirs/psp_baseline_tiny_synthetic_cpu \\
        --legend EFC baseline --out curves.png
    python tools/analysis_tools/analyze_logs.py plot_curve LOG.json \\
        --keys loss_cons mIoU
    python tools/analysis_tools/analyze_logs.py cal_train_time LOG.json
"""
import argparse
import glob
import json
import math
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

#: bookkeeping fields of mmengine's log lines, never plotted by default
NOT_PLOTTED = ('step', 'iter', 'epoch', 'time', 'data_time', 'memory', 'lr',
               'base_lr')

Series = Dict[str, Tuple[List[float], List[float]]]


def find_json_log(path: str) -> str:
    """A json log file: ``path`` itself, or the newest
    ``vis_data/*.json`` under the work dir ``path`` (``scalars.json`` when
    it is the only one).

    Raises:
        FileNotFoundError: no such file, or no json log under the folder.
    """
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'log file or work dir not found: {path}')
    cands = sorted(glob.glob(osp.join(path, '**', 'vis_data', '*.json'),
                             recursive=True))
    named = [c for c in cands if osp.basename(c) != 'scalars.json']
    cands = named or cands
    if not cands:
        raise FileNotFoundError(
            f'no mmengine json log (vis_data/*.json) under {path}')
    return max(cands, key=lambda c: (osp.getmtime(c), c))


def load_json_log(path: str) -> Dict[str, Series]:
    """``{'train': {key: (steps, values)}, 'val': {...}}`` from a log.

    A line with ``lr`` is a training line, any other line with ``step`` a
    validation line. Non-numeric values are skipped.

    Raises:
        ValueError: a line is not JSON (the line number is given), or no
            line has a ``step``.
    """
    out: Dict[str, Series] = dict(train=OrderedDict(), val=OrderedDict())
    n = 0
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}, line {lineno}: not JSON ({e})') \
                    from None
            step = rec.get('step', rec.get('iter'))
            if step is None:
                continue
            n += 1
            mode = 'train' if 'lr' in rec else 'val'
            for k, v in rec.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    continue
                xs, ys = out[mode].setdefault(k, ([], []))
                xs.append(float(step))
                ys.append(float(v))
    if n == 0:
        raise ValueError(f'{path}: no log line with a "step" (is it an '
                         'mmengine vis_data json log?)')
    return out


def default_keys(logs: Sequence[Dict[str, Series]]) -> List[str]:
    """Every loss (training keys containing ``loss``) then every metric
    (validation keys that are not bookkeeping), in order of appearance."""
    losses, metrics = [], []
    for log in logs:
        for k in log['train']:
            if 'loss' in k and k not in losses:
                losses.append(k)
        for k in log['val']:
            if k not in NOT_PLOTTED and k not in metrics:
                metrics.append(k)
    return losses + metrics


def series_for(log: Dict[str, Series], key: str
               ) -> Optional[Tuple[str, List[float], List[float]]]:
    """``(mode, steps, values)`` of ``key`` (training first), or None."""
    for mode in ('train', 'val'):
        if key in log[mode]:
            xs, ys = log[mode][key]
            return mode, xs, ys
    return None


def plot_curve(logs, names, keys, out=None, title=None, style='-'):
    """One panel per key, every run overlaid; saved to ``out`` (or shown).

    Raises:
        KeyError: a requested key is in none of the logs (the available
            keys are listed).
    """
    import matplotlib
    if out is not None:
        matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    missing = [k for k in keys if all(series_for(lg, k) is None
                                      for lg in logs)]
    if missing:
        avail = sorted({k for lg in logs for m in ('train', 'val')
                        for k in lg[m]})
        raise KeyError(f'key(s) {missing} are in none of the logs; '
                       f'available: {avail}')
    cols = min(3, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows),
                             squeeze=False)
    for ax, key in zip(axes.ravel(), keys):
        for log, name in zip(logs, names):
            s = series_for(log, key)
            if s is None:
                continue
            mode, xs, ys = s
            marker = 'o' if mode == 'val' or len(xs) < 3 else None
            ax.plot(xs, ys, style, marker=marker, label=name)
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if len(logs) > 1:
            ax.legend(fontsize=8)
    for ax in axes.ravel()[len(keys):]:
        ax.axis('off')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if out is not None:
        fig.savefig(out, dpi=100)
        print(f'saved {out}')
    else:
        plt.show()
    plt.close(fig)
    return fig


def cal_train_time(logs, names) -> List[dict]:
    """Average / slowest / fastest iteration time of each run (s/iter)."""
    rows = []
    for log, name in zip(logs, names):
        if 'time' not in log['train']:
            raise KeyError(f'{name}: no training "time" in the log')
        steps, times = log['train']['time']
        row = dict(name=name, mean=sum(times) / len(times),
                   slowest=max(times), fastest=min(times),
                   slowest_step=int(steps[times.index(max(times))]),
                   fastest_step=int(steps[times.index(min(times))]))
        rows.append(row)
        print(f'-----Analyze train time of {name}-----')
        print(f'slowest iter at {row["slowest_step"]}: {row["slowest"]:.4f} s'
              f', fastest iter at {row["fastest_step"]}: '
              f'{row["fastest"]:.4f} s, average: {row["mean"]:.4f} s/iter')
    return rows


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='task', required=True)
    p = sub.add_parser('plot_curve', help='plot losses / metrics')
    p.add_argument('logs', nargs='+', help='json logs or work dirs')
    p.add_argument('--keys', nargs='+', default=None,
                   help='keys to plot (default: every loss and metric)')
    p.add_argument('--legend', nargs='+', default=None,
                   help='one name per log (default: the file names)')
    p.add_argument('--title', default=None)
    p.add_argument('--style', default='-', help='matplotlib line style')
    p.add_argument('--out', default=None, help='save the figure here '
                   '(default: show it)')
    t = sub.add_parser('cal_train_time', help='seconds per iteration')
    t.add_argument('logs', nargs='+', help='json logs or work dirs')
    t.add_argument('--legend', nargs='+', default=None)
    args = parser.parse_args(argv)
    if args.legend is not None and len(args.legend) != len(args.logs):
        parser.error(f'--legend needs one name per log: {len(args.logs)} '
                     f'log(s), {len(args.legend)} name(s)')
    return args


def main(argv=None):
    args = parse_args(argv)
    paths = [find_json_log(p) for p in args.logs]
    logs = [load_json_log(p) for p in paths]
    names = args.legend or [osp.basename(osp.normpath(p)) for p in args.logs]
    if args.task == 'cal_train_time':
        return cal_train_time(logs, names)
    keys = args.keys or default_keys(logs)
    if not keys:
        raise KeyError('the logs hold no loss and no metric to plot')
    return plot_curve(logs, names, keys, args.out, args.title, args.style)


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, KeyError, ValueError) as e:
        sys.exit(f'error: {e}')
