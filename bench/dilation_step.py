"""One Dilation10 + EFC training step on the CPU: fc6 in one oneDNN call
(the computation before the fix) vs fc6 in 1024-output-channel chunks
(``DilatedVGG16(fc6_cpu_chunk=1024)``, the default now), side by side.

configs/dilation10_efc_cityscapes.py with ``model.pretrained=None``, a
SIZE x SIZE crop, one pair (B=1, frame 1 labelled), random weights, SGD.
Both models hold the same weights and see the same input and dropout masks
(same seed); the script checks that the losses and every parameter gradient
agree (``torch.allclose``), then prints seconds per step and the five
slowest operators (torch.profiler, self CPU time) of each variant.

    OMP_NUM_THREADS=1 python bench/dilation_step.py            # 128x128
    OMP_NUM_THREADS=1 python bench/dilation_step.py --size 64 --skip-before

The one-call step takes minutes (>200 s at 128x128 for fc6's backward
alone); ``--skip-before`` times only the chunked one.
"""
import argparse
import copy
import os
import os.path as osp
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)  # efc_mm from this checkout

import efc_mm  # noqa: E402,F401
from mmengine.config import Config, ConfigDict  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

init_default_scope('mmseg')


def build(size, chunk, state=None):
    """The Dilation10 EFC model of the user config, fc6 chunked or not."""
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'dilation10_efc_cityscapes.py'))
    m = copy.deepcopy(cfg.model.to_dict())
    m['pretrained'] = None
    m['data_preprocessor']['size'] = (size, size)
    m['backbone']['fc6_cpu_chunk'] = chunk
    torch.manual_seed(0)
    model = MODELS.build(ConfigDict(m))
    if state is None:
        model.init_weights()
    else:
        model.load_state_dict(state)
    return model.train()


def step(model, inputs, samples, profile):
    """Loss + backward + SGD step; returns (seconds, losses, grads, table)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as tprofile
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    torch.manual_seed(1)  # same dropout masks in both variants
    ctx = tprofile(activities=[ProfilerActivity.CPU]) if profile else None
    if ctx is not None:
        ctx.__enter__()
    t0 = time.perf_counter()
    losses = model.loss(inputs, samples)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    opt.zero_grad()
    total.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()
             if p.grad is not None}
    opt.step()
    seconds = time.perf_counter() - t0
    table = ''
    if ctx is not None:
        ctx.__exit__(None, None, None)
        table = ctx.key_averages().table(sort_by='self_cpu_time_total',
                                         row_limit=5)
    return seconds, {k: v.detach() for k, v in losses.items()}, grads, table


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--skip-before', action='store_true')
    ap.add_argument('--no-profile', action='store_true')
    args = ap.parse_args()
    from efc_mm.testing import pair_batch
    inputs, samples = pair_batch(b=1, h=args.size, w=args.size,
                                 num_classes=19)
    after = build(args.size, 1024)
    state = copy.deepcopy(after.state_dict())
    res = {}
    order = [('chunked (now)', after)]
    if not args.skip_before:
        order.append(('one call (before)', build(args.size, None, state)))
    for name, model in order:
        res[name] = step(model, inputs, samples, not args.no_profile)
        print(f'{name}: {res[name][0]:.1f} s', flush=True)
    load = os.getloadavg()
    print(f'\nDilation10 + EFC, {args.size}x{args.size}, one pair, CPU '
          f'threads {torch.get_num_threads()}, load average '
          f'{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}')
    for name, (sec, _, _, table) in res.items():
        print(f'  {name:20s} {sec:8.1f} s per training step')
    if len(res) == 2:
        (_, la, ga, _), (_, lb, gb, _) = res.values()
        ok_loss = all(torch.allclose(la[k], lb[k], rtol=1e-4, atol=1e-6)
                      for k in la if 'loss' in k)
        worst = max(((ga[n] - gb[n]).abs().max() /
                     ga[n].abs().max().clamp_min(1e-12)).item() for n in ga)
        ok_grad = all(torch.allclose(
            ga[n], gb[n], rtol=1e-4,
            atol=1e-5 * ga[n].abs().max().item()) for n in ga)
        print(f'  losses allclose: {ok_loss}; gradients allclose: {ok_grad} '
              f'(worst max|diff| / max|grad| over parameters: {worst:.1e})')
    for name, (_, _, _, table) in res.items():
        if table:
            print(f'\n{name}, slowest operators:\n{table}')


if __name__ == '__main__':
    main()
