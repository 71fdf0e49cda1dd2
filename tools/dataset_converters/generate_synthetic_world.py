#!/usr/bin/env python
"""Generate efc_mm's synthetic street-video world (Cityscapes layout).

Example::

    python tools/dataset_converters/generate_synthetic_world.py \\
        data/efc_synthetic --train 24 --val 6 --height 256 --width 512

See ``docs/design.md`` ("The synthetic world on disk") for the layout; the
generator is the package :mod:`efc_synthetic`.
"""
import argparse
import os
import os.path as osp
import sys
import time

# Make `import efc_synthetic` work from a source checkout without install.
sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import efc_synthetic  # noqa: E402  (numpy + OpenCV only: no torch/mmseg)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out_dir', help='folder to write the world to')
    p.add_argument('--train', type=int, default=24, help='train snippets')
    p.add_argument('--val', type=int, default=6, help='val snippets')
    p.add_argument('--height', type=int, default=256)
    p.add_argument('--width', type=int, default=512)
    p.add_argument('--frames', type=int, default=30,
                   help='frames per snippet')
    p.add_argument('--labelled-frame', type=int, default=19)
    p.add_argument('--snippets-per-city', type=int, default=6)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--workers', type=int, default=None,
                   help='processes (default: all CPUs)')
    p.add_argument('--if-missing', action='store_true',
                   help='do nothing if an identical world is already there')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    kwargs = dict(num_train_snippets=args.train, num_val_snippets=args.val,
                  height=args.height, width=args.width,
                  frames_per_snippet=args.frames,
                  labelled_frame=args.labelled_frame, seed=args.seed,
                  snippets_per_city=args.snippets_per_city,
                  workers=args.workers)
    t0 = time.time()
    fn = efc_synthetic.ensure_synthetic_world if args.if_missing else \
        efc_synthetic.generate_synthetic_world
    root = fn(args.out_dir, **kwargs)
    n = sum(len(f) for _, _, f in os.walk(root))
    print(f'synthetic world: {root} ({n} files, {args.train} train + '
          f'{args.val} val snippets of {args.frames} frames at '
          f'{args.height}x{args.width}) in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
