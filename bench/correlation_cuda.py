"""efc_mm's correlation vs a compiled alternative, on a GPU (or CPU).

Compares :func:`efc_mm.ops.correlation.correlation` (pure PyTorch, the
FlowNet-C cost volume of the EFC flow decoder) with
``spatial_correlation_sampler.SpatialCorrelationSampler`` (pip
``spatial-correlation-sampler``, a CUDA/C++ extension) when that package is
importable, at the paper's scale (713x713 crop -> 90x90 features, C = 256,
max displacement d = 10, dilation_patch 2, batch 1): forward time, forward +
backward time (medians), peak extra memory of the call (CUDA:
``max_memory_allocated`` minus the memory held before) and the largest
difference of the outputs. Without the package only efc_mm's figures are
reported (the comparison is skipped, saying so).

    python bench/correlation_cuda.py --device cuda [--json out.json]
    python bench/correlation_cuda.py --device cpu --quick     # dry run
"""
import argparse
import json
import os
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402


def _sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def ours_fn(d, dp):
    from efc_mm.ops.correlation import correlation

    def fn(a, b):
        return correlation(a, b, kernel_size=1, max_displacement=d,
                           stride=1, padding=0, dilation=1,
                           dilation_patch=dp)
    return fn


def sampler_fn(d, dp):
    """The spatial-correlation-sampler call with the same semantics, or
    None when the package is not installed."""
    try:
        from spatial_correlation_sampler import SpatialCorrelationSampler
    except ImportError:
        return None
    mod = SpatialCorrelationSampler(kernel_size=1, patch_size=2 * d + 1,
                                    stride=1, padding=0, dilation=1,
                                    dilation_patch=dp)

    def fn(a, b):
        return mod(a, b)
    return fn


def measure(fn, a, b, reps, device):
    """Median forward and forward+backward seconds and peak extra MB."""
    def fwd():
        with torch.no_grad():
            return fn(a, b)

    def fwd_bwd():
        a.grad = b.grad = None
        out = fn(a, b)
        out.sum().backward()
        return out

    out = fwd()  # warm-up
    fwd_bwd()
    res = {}
    for name, call in (('forward_s', fwd), ('forward_backward_s', fwd_bwd)):
        times = []
        for _ in range(reps):
            _sync(device)
            t0 = time.perf_counter()
            call()
            _sync(device)
            times.append(time.perf_counter() - t0)
        res[name] = statistics.median(times)
    if device.startswith('cuda'):
        for name, call in (('forward_peak_mb', fwd),
                           ('forward_backward_peak_mb', fwd_bwd)):
            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            r = call()
            torch.cuda.synchronize()
            res[name] = (torch.cuda.max_memory_allocated() - base) / 2**20
            del r
    res['out_mb'] = out.numel() * out.element_size() / 2**20
    return res, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--size', type=int, default=90, help='feature H = W')
    ap.add_argument('--channels', type=int, default=256)
    ap.add_argument('--max-displacement', type=int, default=10)
    ap.add_argument('--dilation-patch', type=int, default=2)
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--quick', action='store_true',
                    help='16x16, C 16, d 3 (a dry run)')
    ap.add_argument('--json', help='write the results here')
    args = ap.parse_args(argv)
    if args.quick:
        args.size, args.channels, args.max_displacement = 16, 16, 3
        args.reps = min(args.reps, 2)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        ap.error(f'--device {args.device}: no CUDA device in this torch')
    d, dp = args.max_displacement, args.dilation_patch
    g = torch.Generator().manual_seed(0)
    shape = (args.batch, args.channels, args.size, args.size)
    a = torch.randn(shape, generator=g).to(args.device).requires_grad_()
    b = torch.randn(shape, generator=g).to(args.device).requires_grad_()
    results = dict(setting=dict(vars(args)))
    res, out_ours = measure(ours_fn(d, dp), a, b, args.reps, args.device)
    results['efc_mm'] = res
    alt = sampler_fn(d, dp)
    if alt is None:
        results['spatial_correlation_sampler'] = (
            'not installed (pip install spatial-correlation-sampler): '
            'comparison skipped')
    else:
        res_alt, out_alt = measure(alt, a, b, args.reps, args.device)
        out_alt = out_alt.reshape(out_ours.shape)
        res_alt['max_abs_diff_vs_efc_mm'] = float(
            (out_alt - out_ours).abs().max())
        results['spatial_correlation_sampler'] = res_alt
    print(f'correlation {args.batch}x{args.channels}x{args.size}x{args.size}'
          f', d={d}, dilation_patch={dp}, device {args.device}:')
    for name in ('efc_mm', 'spatial_correlation_sampler'):
        r = results[name]
        if isinstance(r, str):
            print(f'  {name}: {r}')
            continue
        mem = ''
        if 'forward_peak_mb' in r:
            mem = (f', peak +{r["forward_peak_mb"]:.1f} MB fwd / '
                   f'+{r["forward_backward_peak_mb"]:.1f} MB fwd+bwd '
                   f'(output {r["out_mb"]:.1f} MB)')
        diff = (f', max |diff| {r["max_abs_diff_vs_efc_mm"]:.2e}'
                if 'max_abs_diff_vs_efc_mm' in r else '')
        print(f'  {name}: fwd {1e3 * r["forward_s"]:.2f} ms, fwd+bwd '
              f'{1e3 * r["forward_backward_s"]:.2f} ms{mem}{diff}')
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == '__main__':
    main()
