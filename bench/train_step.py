"""Cost of one EFC joint training step vs plain segmentation training.

PSP-R50-D8 (configs/_base_/models/psp_efc_r50-d8.py, BN, random weights),
CPU, one pair (B=1, both frames through the seg branch, one labelled).
Each mode runs in its own subprocess (clean peak RSS via ``os.wait4``):

* ``joint``: EFC loss (L_seg + L_pm + L_sm + L_occ + L_cons) + backward +
  SGD step on a pair;
* ``seg2``: the same model and pair with the flow branch off
  (``with_flow_loss=False, with_consistency=False``): seg on both frames
  (the ``joint`` process also times this interleaved with its joint steps,
  which is the robust figure on a shared, noisy machine);
* ``plain``: mmseg EncoderDecoder step on 2 frames (one frame cannot train
  PSP's pool-scale-1 BatchNorm: that is the BN trap of the configs);

and ``joint`` also reports a forward breakdown (shared encoder, seg tail +
heads on 2 frames, flow decoder, EFC losses). The flow branch's share of the
joint step is ``(joint - flow off) / joint`` (target <= 30 %).

    OMP_NUM_THREADS=1 python bench/train_step.py [--size 512] [--reps 2]
    python bench/train_step.py --quick      # tiny model, 128x128
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch


def _pair(size, b=1):
    from model_utils import pair_batch
    return pair_batch(b=b, h=size, w=size, num_classes=19,
                      labelled=(True, False))


def run_mode(mode, size, reps, quick):
    from _models import build, plain_of, psp_cfg
    cfg = psp_cfg(tiny=quick)
    if mode == 'seg2':
        cfg['train_cfg'] = dict(with_flow_loss=False, with_consistency=False)
    if mode == 'plain':
        cfg = plain_of(cfg)
    model = build(cfg).train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    inputs, samples = _pair(size)
    if mode == 'plain':
        inputs = inputs.transpose(0, 1).reshape(2, 3, size, size)
        samples = [samples[0].frame1, samples[0].frame2]

    def step():
        losses = model.loss(inputs, samples)
        total = sum(v for k, v in losses.items() if 'loss' in k)
        opt.zero_grad()
        total.backward()
        opt.step()

    step()  # warm-up
    times, off_times = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        if mode == 'joint':  # interleaved: same model, flow branch off
            model.efc_cfg.update(with_flow_loss=False, with_consistency=False)
            t0 = time.perf_counter()
            step()
            off_times.append(time.perf_counter() - t0)
            model.efc_cfg.update(with_flow_loss=True, with_consistency=True)
    out = dict(mode=mode, step_s=statistics.median(times))
    if mode == 'joint':
        out['interleaved_off_s'] = statistics.median(off_times)
        out['breakdown'] = forward_breakdown(model, inputs, samples, reps)
    return out


def forward_breakdown(model, inputs, samples, reps):
    """Forward-pass seconds per component (with autograd recording, as in
    training)."""
    from efc_mm.structures import split_pair_samples
    from mmseg.utils import add_prefix
    acc = {'shared encoder': [], 'seg tail + heads (2 frames)': [],
           'flow decoder (fw+bw)': [], 'EFC losses': []}
    run_flow = model._run_flow
    t_flow = [0.0]

    def timed_run_flow(*a, **k):
        t0 = time.perf_counter()
        r = run_flow(*a, **k)
        t_flow[0] += time.perf_counter() - t0
        return r

    model._run_flow = timed_run_flow
    frames = model._pair_to_frames(inputs)
    fs = split_pair_samples(samples)
    for _ in range(reps):
        t0 = time.perf_counter()
        shared = model.encode_shared(frames)
        t1 = time.perf_counter()
        x = model._seg_from_shared(shared)
        seg = model.decode_head.forward(x)
        add_prefix(model.decode_head.loss_by_feat(seg, fs), 'decode')
        model._auxiliary_head_forward_train(x, fs)
        t2 = time.perf_counter()
        t_flow[0] = 0.0
        model._flow_losses(frames, shared, seg)
        t3 = time.perf_counter()
        acc['shared encoder'].append(t1 - t0)
        acc['seg tail + heads (2 frames)'].append(t2 - t1)
        acc['flow decoder (fw+bw)'].append(t_flow[0])
        acc['EFC losses'].append(t3 - t2 - t_flow[0])
    model._run_flow = run_flow
    return {k: statistics.median(v) for k, v in acc.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--size', type=int, default=512)
    ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--mode', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.size, args.reps = 128, 3
    if args.mode:  # child process
        print('RESULT ' + json.dumps(run_mode(args.mode, args.size,
                                              args.reps, args.quick)))
        return
    results = {}
    for mode in ('plain', 'seg2', 'joint'):
        cmd = [sys.executable, __file__, '--mode', mode, '--size',
               str(args.size), '--reps', str(args.reps)]
        if args.quick:
            cmd.append('--quick')
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        if status != 0:
            raise RuntimeError(f'mode {mode} failed (status {status})')
        line = [ln for ln in out.splitlines() if ln.startswith('RESULT ')][-1]
        res = json.loads(line[len('RESULT '):])
        res['peak_rss_mb'] = usage.ru_maxrss / 1024
        results[mode] = res
    j, s, p = results['joint'], results['seg2'], results['plain']
    print(f'model: {"tiny R18" if args.quick else "PSP-R50-D8"}, '
          f'{args.size}x{args.size}, CPU threads '
          f'{os.environ.get("OMP_NUM_THREADS", "default")}, median of '
          f'{args.reps} steps')
    for name, r in (('plain mmseg step, 2 frames', p),
                    ('EFC, flow branch off, pair', s),
                    ('EFC joint step, pair', j)):
        print(f'  {name:30s} {r["step_s"]:8.2f} s   peak RSS '
              f'{r["peak_rss_mb"]:7.0f} MB')
    share = (j['step_s'] - s['step_s']) / j['step_s']
    print(f'flow branch + EFC losses share of the joint step, separate '
          f'processes: {100 * share:.1f} %')
    share_i = (j['step_s'] - j['interleaved_off_s']) / j['step_s']
    print(f'  same process, interleaved (joint {j["step_s"]:.2f} s vs flow '
          f'off {j["interleaved_off_s"]:.2f} s): {100 * share_i:.1f} % '
          '(target <= 30 %)')
    fwd = sum(j['breakdown'].values())
    print('joint forward breakdown:')
    for k, v in j['breakdown'].items():
        print(f'  {k:30s} {v:8.3f} s  ({100 * v / fwd:4.1f} % of forward)')


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
