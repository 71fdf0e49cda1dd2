"""Cost of one EFC joint training step vs plain segmentation training.

PSP-R50-D8 (configs/_base_/models/psp_efc_r50-d8.py, BN, random weights),
``--batch`` pairs per step (both frames through the seg branch, frame 1
labelled). Each mode runs in its own subprocess, so its peak memory is its
own (CPU: the child's peak RSS, ``getrusage``; CUDA: ``max_memory_allocated``):

* ``joint``: EFC's loss on the pairs (L_seg + the flow decoder's L_pm, L_sm,
  L_occ + L_cons) + backward + SGD step;
* ``seg2``: the same EFC model with the flow branch off: mmseg's
  ``EncoderDecoder.loss`` on the 2B frames (the ``joint`` process also
  times this interleaved with its joint steps, which is the robust figure
  on a shared, noisy machine);
* ``plain``: mmseg's own ``EncoderDecoder`` step on the 2B frames (one
  frame cannot train PSP's pool-scale-1 BatchNorm).

``joint`` also reports a forward breakdown (shared encoder, seg heads on
2B frames, flow decoder, the rest = EFC losses, warps, range maps), timed
by wrapping the modules' ``forward``. The flow branch's share of the joint
step is ``(joint - flow off) / joint`` (target <= 30 %).

GPU: ``--device cuda`` (timing with ``torch.cuda.synchronize``, peak
``torch.cuda.max_memory_allocated``), ``--amp`` (autocast float16 with a
GradScaler on CUDA; bfloat16 autocast on the CPU, which exercises the same
code path). ``--json FILE`` writes all figures.

    OMP_NUM_THREADS=1 python bench/train_step.py [--size 512] [--reps 2]
    python bench/train_step.py --device cuda --size 713 --batch 2 --reps 10 \\
        --amp
    python bench/train_step.py --quick      # tiny model, 128x128 (dry run)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

MODES = ('plain', 'seg2', 'joint')


def _sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def _pair(size, batch, device):
    from efc_mm.testing import pair_batch
    inputs, samples = pair_batch(b=batch, h=size, w=size, num_classes=19,
                                 labelled=(True, False))
    return inputs.to(device), [s.to(device) for s in samples]


def _frames_of(inputs, samples):
    """The 2B frames of a pair batch (frame 1 of every pair, then frame 2)
    and their SegDataSamples."""
    b = inputs.shape[0]
    frames = torch.cat([inputs[:, 0], inputs[:, 1]], dim=0)
    fs = [s.frame1 for s in samples] + [s.frame2 for s in samples]
    assert frames.shape[0] == 2 * b
    return frames, fs


class _Autocast:
    """Autocast + (CUDA) GradScaler when ``amp``; no-ops otherwise."""

    def __init__(self, device: str, amp: bool):
        self.amp = amp
        self.kind = 'cuda' if device.startswith('cuda') else 'cpu'
        self.dtype = torch.float16 if self.kind == 'cuda' else torch.bfloat16
        self.scaler = torch.amp.GradScaler('cuda') \
            if amp and self.kind == 'cuda' else None

    def ctx(self):
        if not self.amp:
            return torch.autocast(self.kind, enabled=False)
        return torch.autocast(self.kind, dtype=self.dtype)

    def step(self, total, opt):
        opt.zero_grad()
        if self.scaler is not None:
            self.scaler.scale(total).backward()
            self.scaler.step(opt)
            self.scaler.update()
        else:
            total.backward()
            opt.step()


def plain_model_cfg(efc_cfg: dict) -> dict:
    """The same segmentor as mmseg's ``EncoderDecoder``: EFC-only keys
    (whatever ``EncoderDecoder.__init__`` does not take) dropped."""
    import copy
    import inspect

    from mmseg.models import EncoderDecoder
    allowed = set(inspect.signature(EncoderDecoder.__init__).parameters)
    cfg = {k: copy.deepcopy(v) for k, v in efc_cfg.items()
           if k in allowed or k == 'type'}
    cfg['type'] = 'EncoderDecoder'
    cfg['train_cfg'] = dict()
    dp = dict(cfg.get('data_preprocessor') or {})
    dp['type'] = 'SegDataPreProcessor'
    cfg['data_preprocessor'] = dp
    return cfg


def _total(losses):
    total = sum(v.sum() for k, v in losses.items()
                if 'loss' in k and isinstance(v, torch.Tensor))
    if not torch.isfinite(total):
        raise FloatingPointError(f'non-finite loss: {total.item()} from '
                                 f'{sorted(losses)}')
    return total


def run_mode(mode, size, reps, quick, device, amp, batch):
    from _models import build, psp_cfg  # imports efc_mm first
    from mmseg.models import EncoderDecoder
    cfg = psp_cfg(tiny=quick)
    if mode == 'plain':
        cfg = plain_model_cfg(cfg)
    model = build(cfg).to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    inputs, samples = _pair(size, batch, device)
    frames, fs = _frames_of(inputs, samples)
    ac = _Autocast(device, amp)

    def step(flow_on=True):
        with ac.ctx():
            if mode == 'plain':
                losses = model.loss(frames, fs)
            elif mode == 'seg2' or not flow_on:
                losses = EncoderDecoder.loss(model, frames, fs)
            else:
                losses = model.loss(inputs, samples)
            total = _total(losses)
        ac.step(total, opt)

    def timed(flow_on=True):
        _sync(device)
        t0 = time.perf_counter()
        step(flow_on)
        _sync(device)
        return time.perf_counter() - t0

    step()  # warm-up (cuDNN autotune, allocator)
    step()
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    times, off_times = [], []
    for _ in range(reps):
        times.append(timed())
        if mode == 'joint':  # interleaved: same model, flow branch off
            off_times.append(timed(flow_on=False))
    out = dict(mode=mode, step_s=statistics.median(times), device=device,
               amp=amp, batch=batch, size=size)
    if device.startswith('cuda'):
        out['peak_gpu_mb'] = torch.cuda.max_memory_allocated() / 2**20
        out['gpu'] = torch.cuda.get_device_name()
    if mode == 'joint':
        out['interleaved_off_s'] = statistics.median(off_times)
        out['breakdown'] = forward_breakdown(model, inputs, samples, frames,
                                             reps, device, ac)
    return out


def forward_breakdown(model, inputs, samples, frames, reps, device, ac):
    """Forward seconds per component of the joint loss, with autograd
    recording as in training, by timing the heads' and the flow decoder's
    ``forward``; the encoder is timed alone on the 2B frames."""
    acc = {'shared encoder (2B frames)': [], 'seg heads (2B frames)': [],
           'flow decoder (fw+bw)': [], 'EFC losses, warps, rest': []}
    spent = {'seg': 0.0, 'flow': 0.0}
    patched = []

    def timed_forward(name, fn):
        def forward(*a, **k):
            _sync(device)
            t0 = time.perf_counter()
            out = fn(*a, **k)
            _sync(device)
            spent[name] += time.perf_counter() - t0
            return out
        return forward

    # wrap ``forward`` on the instances: EFC calls decode_head.forward()
    # directly, so module hooks (which run in __call__) would miss it
    mods = [('seg', getattr(model, 'decode_head', None)),
            ('seg', getattr(model, 'auxiliary_head', None)),
            ('flow', getattr(model, 'flow_decoder', None))]
    for name, mod in mods:
        if mod is not None:
            mod.forward = timed_forward(name, mod.forward)
            patched.append(mod)
    try:
        for _ in range(reps):
            with ac.ctx():
                _sync(device)
                t0 = time.perf_counter()
                model.extract_feat(frames)
                _sync(device)
                t_enc = time.perf_counter() - t0
                spent.update(seg=0.0, flow=0.0)
                _sync(device)
                t0 = time.perf_counter()
                losses = model.loss(inputs, samples)
                _sync(device)
                t_all = time.perf_counter() - t0
            del losses
            acc['shared encoder (2B frames)'].append(t_enc)
            acc['seg heads (2B frames)'].append(spent['seg'])
            acc['flow decoder (fw+bw)'].append(spent['flow'])
            acc['EFC losses, warps, rest'].append(
                max(t_all - t_enc - spent['seg'] - spent['flow'], 0.0))
    finally:
        for mod in patched:
            del mod.forward  # back to the class's method
    return {k: statistics.median(v) for k, v in acc.items()}


def _child(args, mode):
    cmd = [sys.executable, os.path.abspath(__file__), '--mode', mode,
           '--size', str(args.size), '--reps', str(args.reps), '--device',
           args.device, '--batch', str(args.batch)]
    if args.quick:
        cmd.append('--quick')
    if args.amp:
        cmd.append('--amp')
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f'mode {mode} failed (exit {proc.returncode}):\n'
                           f'{err[-3000:]}')
    line = [ln for ln in out.splitlines() if ln.startswith('RESULT ')][-1]
    res = json.loads(line[len('RESULT '):])
    res['peak_rss_mb'] = res.pop('_maxrss_mb', None)
    return res


def report(args, results) -> str:
    lines = []
    dev = results[next(iter(results))].get('gpu', args.device)
    lines.append(
        f'model: {"tiny R18" if args.quick else "PSP-R50-D8"}, batch '
        f'{args.batch} pair(s) of {args.size}x{args.size}, device {dev}, '
        f'amp {args.amp}, CPU threads '
        f'{os.environ.get("OMP_NUM_THREADS", "default")}, median of '
        f'{args.reps} steps')
    mem_key = 'peak_gpu_mb' if args.device.startswith('cuda') else \
        'peak_rss_mb'
    mem_name = 'peak GPU mem' if mem_key == 'peak_gpu_mb' else 'peak RSS'
    names = dict(plain='plain mmseg step, 2B frames',
                 seg2='EFC, flow branch off, 2B frames',
                 joint='EFC joint step, B pairs')
    for mode in MODES:
        if mode not in results:
            continue
        r = results[mode]
        mem = r.get(mem_key)
        lines.append(f'  {names[mode]:32s} {r["step_s"]:8.3f} s '
                     f'({1 / r["step_s"]:6.2f} steps/s)   {mem_name} '
                     f'{mem if mem is None else round(mem):>7} MB')
    j = results.get('joint')
    if j:
        if 'seg2' in results:
            s = results['seg2']
            share = (j['step_s'] - s['step_s']) / j['step_s']
            lines.append('flow branch + EFC losses share of the joint step, '
                         f'separate processes: {100 * share:.1f} %')
        share_i = (j['step_s'] - j['interleaved_off_s']) / j['step_s']
        lines.append(f'  same process, interleaved (joint {j["step_s"]:.3f} s '
                     f'vs flow off {j["interleaved_off_s"]:.3f} s): '
                     f'{100 * share_i:.1f} % (target <= 30 %)')
        fwd = sum(j['breakdown'].values()) or 1.0
        lines.append('joint forward breakdown:')
        for k, v in j['breakdown'].items():
            lines.append(f'  {k:30s} {v:8.4f} s  ({100 * v / fwd:4.1f} % of '
                         'forward)')
    return '\n'.join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', type=int, default=512)
    ap.add_argument('--batch', type=int, default=1, help='pairs per step')
    ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1')
    ap.add_argument('--amp', action='store_true',
                    help='mixed precision (fp16 + GradScaler on CUDA)')
    ap.add_argument('--modes', nargs='+', choices=MODES, default=list(MODES))
    ap.add_argument('--quick', action='store_true',
                    help='tiny model at 128x128 (a dry run)')
    ap.add_argument('--json', help='write the results here')
    ap.add_argument('--mode', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick and args.size == 512:
        args.size = 128
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        ap.error(f'--device {args.device}: this torch has no CUDA device '
                 f'(torch {torch.__version__}); use --device cpu')
    if args.mode:  # child process
        res = run_mode(args.mode, args.size, args.reps, args.quick,
                       args.device, args.amp, args.batch)
        import resource
        res['_maxrss_mb'] = resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024
        print('RESULT ' + json.dumps(res))
        return res
    results = {m: _child(args, m) for m in args.modes}
    text = report(args, results)
    print(text)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)),
                    exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(dict(args=vars(args), results=results, report=text), f,
                      indent=1)
    return results


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
