"""Benchmark of the FlowNet-C correlation (cost volume) on the CPU.

Not a test: prints figures. At the paper's scale (713x713 crops, features at
1/8 -> 90x90, batch 1) it compares

(a) ``ours``: :func:`efc_mm.ops.correlation` (banded batched matmul per
    vertical displacement, custom autograd Function);
(b) ``naive``: one displacement at a time, each time materialising a zero-
    filled *shifted copy* of input2 (no view reuse), multiply, channel sum,
    ``torch.stack`` at the end;
(b') ``views``: the previous efc_mm implementation (one displacement at a
    time on shifted *views* of a padded input2, ``torch.cat`` at the end);
(c) ``unfold``: ``F.unfold`` of the padded input2, materialising
    ``C x D^2 x H x W``, then multiply and channel sum. At full size that is
    3.7 GB (C=256, d=10) to 28 GB (C=512, d=20), so it is run on a band of
    output rows and time and memory are extrapolated linearly to all rows
    (marked ``*``).

Memory: the peak resident set size of the process during the call minus the
resident size just before it (``/proc/self/clear_refs`` = 5 resets Linux's
high-water mark ``VmHWM``). The script re-executes itself with
``MALLOC_MMAP_THRESHOLD_=65536`` (glibc then serves every block >= 64 KiB with
its own ``mmap`` and unmaps it on free, instead of recycling freed heap
memory, which would hide allocations) and calls ``malloc_trim(0)`` before
each measurement, so the figure is the peak of what torch allocated and
touched during the call, the output included. Inputs exist before the call
and are not counted. (``torch.profiler``'s memory events were tried first:
on this torch build they record no CPU allocations.) Time: median of ``--repeats`` runs after a warm-up, torch threads as
given (2). Usage::

    OMP_NUM_THREADS=2 PYTHONPATH=. python bench/correlation.py [--quick]
"""
import argparse
import ctypes
import gc
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
import efc_mm  # noqa: E402,F401
from efc_mm.ops import correlation  # noqa: E402


# ----------------------------------------------------------------- variants
def corr_naive(x1, x2, md, dp):
    """Per displacement, a freshly materialised shifted copy of x2."""
    n, c, h, w = x1.shape
    outs = []
    for ph in range(2 * md + 1):
        for pw in range(2 * md + 1):
            dy, dx = (ph - md) * dp, (pw - md) * dp
            shifted = torch.zeros_like(x2)
            ys, ye = max(0, -dy), min(h, h - dy)
            xs, xe = max(0, -dx), min(w, w - dx)
            if ye > ys and xe > xs:
                shifted[:, :, ys:ye, xs:xe] = x2[:, :, ys + dy:ye + dy,
                                                 xs + dx:xe + dx]
            outs.append((x1 * shifted).sum(1))
    p = 2 * md + 1
    return torch.stack(outs, 1).view(n, p, p, h, w)


def corr_views(x1, x2, md, dp):
    """The previous efc_mm implementation (kernel 1, stride 1)."""
    n, c, h, w = x1.shape
    p = 2 * md + 1
    m = md * dp
    x2p = F.pad(x2, (m, m, m, m))
    outs = []
    for ph in range(p):
        for pw in range(p):
            oy, ox = ph * dp, pw * dp
            outs.append((x1 * x2p[:, :, oy:oy + h, ox:ox + w]).sum(
                1, keepdim=True))
    return torch.cat(outs, 1).view(n, p, p, h, w)


def corr_unfold(x1, x2, md, dp, rows=None):
    """Unfold-based: materialises C x D^2 x rows x W. ``rows`` = (r0, r1)
    computes only output rows r0..r1-1."""
    n, c, h, w = x1.shape
    p = 2 * md + 1
    m = md * dp
    r0, r1 = rows if rows is not None else (0, h)
    x2p = F.pad(x2, (m, m, m, m))[:, :, r0:r1 + 2 * m]
    unf = F.unfold(x2p, kernel_size=p, dilation=dp)  # (N, C*P*P, R*W)
    unf = unf.view(n, c, p * p, (r1 - r0) * w)
    a = x1[:, :, r0:r1].reshape(n, c, 1, (r1 - r0) * w)
    return (a * unf).sum(1).view(n, p, p, r1 - r0, w)


# ----------------------------------------------------------------- measuring
def _status_kb(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise KeyError(key)


def _can_reset_hwm():
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        _status_kb('VmHWM')
        return True
    except OSError:
        return False


def _malloc_trim():
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_mb(fn):
    """Peak RSS increase (MB) while running ``fn()``."""
    gc.collect()
    _malloc_trim()
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    before = _status_kb('VmRSS')
    out = fn()
    peak = _status_kb('VmHWM')
    del out
    gc.collect()
    return (peak - before) / 1024


def median_time(fn, repeats, slow_s=20.0):
    """Median seconds of ``repeats`` runs (one run if a run exceeds
    ``slow_s``)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if times[-1] > slow_s:
            break
    return statistics.median(times), len(times)


def main():
    if os.environ.get('MALLOC_MMAP_THRESHOLD_') is None:  # see docstring
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='tiny sizes, seconds (checks the script)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--configs', nargs='*', default=None,
                        help='C:d pairs, e.g. 256:10 512:20 (full run only)')
    parser.add_argument('--skip', nargs='*', default=[],
                        help='variants to skip: naive views unfold')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        size, configs, band = 24, [(32, 3)], 6
    else:
        size, configs, band = 90, [(256, 10), (512, 10), (256, 20),
                                   (512, 20)], None
        if args.configs:
            configs = [tuple(int(v) for v in cd.split(':'))
                       for cd in args.configs]
    dp = 2
    mem_ok = _can_reset_hwm()
    print(f'torch {torch.__version__}, threads {torch.get_num_threads()}, '
          f'loadavg {os.getloadavg()[0]:.2f}, features {size}x{size}, '
          f'batch 1, dilation_patch {dp}, kernel 1, stride 1')
    if not mem_ok:
        print('(cannot reset VmHWM: memory not measured)')
    # warm-up (thread pool, BLAS)
    w1 = torch.randn(1, 8, 12, 12)
    correlation(w1, w1, max_displacement=2, dilation_patch=2)
    hdr = (f'{"C":>4} {"d":>3} {"D^2":>5} {"out MB":>7} {"variant":>8} '
           f'{"fwd s":>8} {"runs":>4} {"peak MB":>9} {"peak/out":>8} '
           f'{"fwd+bwd s":>9} {"max|diff|":>9}')
    print(hdr)
    print('-' * len(hdr))
    for c, md in configs:
        torch.manual_seed(0)
        x1 = torch.randn(1, c, size, size)
        x2 = torch.randn(1, c, size, size)
        p = 2 * md + 1
        out_mb = p * p * size * size * 4 / 2**20
        ref = correlation(x1, x2, max_displacement=md, dilation_patch=dp)
        row_mb = c * p * p * size * 4 / 2**20  # unfold bytes per output row
        rows = min(size, band or max(1, int(400 // row_mb)))  # ~400 MB band
        variants = [
            ('ours', lambda: correlation(x1, x2, max_displacement=md,
                                         dilation_patch=dp), 1.0),
            ('naive', lambda: corr_naive(x1, x2, md, dp), 1.0),
            ('views', lambda: corr_views(x1, x2, md, dp), 1.0),
            ('unfold', lambda: corr_unfold(x1, x2, md, dp, (0, rows)),
             size / rows),
        ]
        for name, fn, scale in variants:
            if name in args.skip:
                continue
            check = fn()
            diff = (check - ref[:, :, :, :check.shape[3]]).abs().max().item()
            del check
            mem = peak_mb(fn) if mem_ok else float('nan')
            t, runs = median_time(fn, args.repeats)
            fb = ''
            if name in ('ours', 'views'):
                a = x1.clone().requires_grad_()
                b = x2.clone().requires_grad_()

                def fwd_bwd():
                    if name == 'ours':
                        o = correlation(a, b, max_displacement=md,
                                        dilation_patch=dp)
                    else:
                        o = corr_views(a, b, md, dp)
                    o.sum().backward()
                    a.grad = b.grad = None
                fb = f'{median_time(fwd_bwd, args.repeats)[0]:9.3f}'
            star = '*' if scale != 1.0 else ' '
            print(f'{c:4d} {md:3d} {p * p:5d} {out_mb:7.1f} {name:>8} '
                  f'{t * scale:7.3f}{star} {runs:4d} {mem * scale:8.1f}{star} '
                  f'{mem * scale / out_mb:8.2f} {fb:>9} {diff:9.1e}',
                  flush=True)
        if band is None:
            print(f'     (* unfold run on {rows} of {size} output rows, '
                  'extrapolated)')


if __name__ == '__main__':
    main()
