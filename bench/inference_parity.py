"""Inference parity: EFCSegmentor.predict() vs mmseg's plain PSPNet.

Same weights (the plain EncoderDecoder loads the EFC state dict minus the
flow branch), same input, in one process; runs are interleaved
(EFC, plain, EFC, plain, ...) so that machine noise hits both alike. Prints
the median latency of each, their ratio (target <= 1.01: EFC adds nothing
at inference) and whether every output is bit-identical (torch.equal).

    OMP_NUM_THREADS=1 python bench/inference_parity.py [--size 512] \
        [--runs 20] [--quick]

``--quick``: tiny ResNet-18 model at 128x128, 30 runs (seconds).
"""
import argparse
import statistics
import time

import torch

from _models import build, plain_of, psp_cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--size', type=int, default=512)
    ap.add_argument('--runs', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--quick', action='store_true')
    args = ap.parse_args()
    if args.quick:
        args.size, args.runs = 128, 30
    cfg = psp_cfg(tiny=args.quick)
    efc = build(cfg).eval()
    plain = build(plain_of(cfg)).eval()
    missing, _ = plain.load_state_dict(efc.state_dict(), strict=False)
    assert not missing, missing
    torch.manual_seed(1)
    x = torch.randn(1, 3, args.size, args.size)
    times = {'efc': [], 'plain': []}
    identical = True
    with torch.no_grad():
        for i in range(args.warmup + args.runs):
            order = (('efc', efc), ('plain', plain)) if i % 2 == 0 else \
                (('plain', plain), ('efc', efc))
            outs = {}
            for name, model in order:
                t0 = time.perf_counter()
                outs[name] = model.predict(x)[0]
                dt = time.perf_counter() - t0
                if i >= args.warmup:
                    times[name].append(dt)
            identical &= torch.equal(outs['efc'].seg_logits.data,
                                     outs['plain'].seg_logits.data)
            identical &= torch.equal(outs['efc'].pred_sem_seg.data,
                                     outs['plain'].pred_sem_seg.data)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f'model: {"tiny R18" if args.quick else "PSP-R50-D8"}, input '
          f'1x3x{args.size}x{args.size}, threads {torch.get_num_threads()}, '
          f'{args.runs} interleaved runs')
    print(f'median latency  EFC predict {med["efc"] * 1e3:.1f} ms | plain '
          f'PSPNet {med["plain"] * 1e3:.1f} ms')
    print(f'ratio EFC / plain = {med["efc"] / med["plain"]:.4f} '
          '(target <= 1.01)')
    print(f'outputs bit-identical (torch.equal, every run): {identical}')


if __name__ == '__main__':
    main()
