"""Propagate a labelled frame's labels to its neighbours with the model's flow.

Warps the label map of one frame of a clip to the frames within
``--radius`` before and after it, with the flow an EFC model predicts, and
keeps only the pixels a visibility test says are seen in both frames (the
others get 255). Writes ``OUT_DIR/<frame stem>.png`` (uint8 labels) per
neighbour. See :mod:`efc_mm.apis.label_propagation` for the method:

* ``--mode chain`` (default) walks frame by frame with consecutive-frame
  flows (the gaps EFC is trained on); ``--mode direct`` uses one flow from
  each neighbour straight to the labelled frame.
* ``--visibility fb`` (default, forward-backward check), ``occ`` (the
  model's occlusion map), ``both`` or ``none``.
* ``--zero-flow`` copies the labels unchanged (the no-motion reference; the
  model is not loaded then, CONFIG and CHECKPOINT are ignored).

With ``--gt-dir`` (true label maps named as the frames, e.g. every frame
of CamVid's 15 Hz val sequence), it prints the accuracy of the propagated
labels as a function of the distance from the labelled frame, and what
zero flow gets right on the same pixels. ``bench/propagation.py`` runs this
over whole datasets.

Example (CamVid: frame 0016E5_07979's labels to +-5 frames)::

    python tools/propagate_labels.py CONFIG CKPT data/camvid/val \\
        data/camvid/valannot/0016E5_07979.png out/ --radius 5 \\
        --gt-dir data/camvid/valannot --label-map 11=255
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import cv2  # noqa: E402
import numpy as np  # noqa: E402


def _stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def read_labels(path: str, label_map=None) -> np.ndarray:
    """A single-channel label PNG as ``(H, W)`` int64, with ``label_map``
    ``{from: to}`` applied (e.g. CamVid's void 11 -> 255)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'label file not found: {path}')
    lab = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if lab is None:
        raise ValueError(f'{path} could not be decoded as an image')
    if lab.ndim != 2:
        raise ValueError(f'{path}: a label map must have one channel (class '
                         f'ids), got shape {lab.shape}')
    lab = lab.astype(np.int64)
    for src, dst in (label_map or {}).items():
        lab[lab == src] = dst
    return lab


def parse_label_map(items):
    out = {}
    for it in items or []:
        try:
            a, b = it.split('=')
            out[int(a)] = int(b)
        except ValueError:
            raise ValueError(f'--label-map entries are FROM=TO integers, got '
                             f'{it!r}') from None
    return out


def parse_args(argv=None):
    from efc_mm.apis.label_propagation import MODES, VISIBILITY
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='EFC model config')
    parser.add_argument('checkpoint', help='weights')
    parser.add_argument('frames_dir', help='folder of the clip\'s frames '
                        '(natural sort order)')
    parser.add_argument('label', help='label PNG of one frame')
    parser.add_argument('out_dir', help='folder for the propagated labels')
    parser.add_argument('--frame', help='the labelled frame (file name in '
                        'FRAMES_DIR); default: the frame with the label\'s '
                        'stem')
    parser.add_argument('--radius', type=int, default=5,
                        help='propagate to frames up to this distance')
    parser.add_argument('--mode', choices=MODES, default='chain')
    parser.add_argument('--visibility', choices=VISIBILITY, default='fb')
    parser.add_argument('--zero-flow', action='store_true',
                        help='copy labels unchanged (reference)')
    parser.add_argument('--gt-dir', help='true labels (same stems as the '
                        'frames): report accuracy per distance')
    parser.add_argument('--label-map', nargs='+', metavar='FROM=TO',
                        help='relabel before use, e.g. 11=255 (CamVid void)')
    parser.add_argument('--resize', type=int, nargs=2, metavar=('W', 'H'),
                        help='run the model on frames resized to W x H; the '
                        'flow is resized back (vectors rescaled)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if args.radius < 1:
        parser.error(f'--radius must be >= 1, got {args.radius}')
    return args


def find_frame(frames, label, frame=None):
    """Index of the labelled frame in ``frames``."""
    names = [osp.basename(f) for f in frames]
    if frame is not None:
        if osp.basename(frame) not in names:
            raise ValueError(f'--frame {frame} is not in the frames folder '
                             f'(e.g. {names[:3]})')
        return names.index(osp.basename(frame))
    stems = [_stem(f) for f in frames]
    if _stem(label) not in stems:
        raise ValueError(
            f'no frame named like the label {osp.basename(label)} (stem '
            f'{_stem(label)!r}) in the frames folder (e.g. {names[:3]}); '
            'pass --frame')
    return stems.index(_stem(label))


class _ResizedPairFlow:
    """Model flow computed at ``(W, H)`` and brought back to full size."""

    def __init__(self, model, frames, size):
        from efc_mm.apis.label_propagation import ModelPairFlow
        from efc_mm.apis.video_io import read_image
        self.full = read_image(frames[0]).shape[:2]
        small = [cv2.resize(read_image(f), tuple(size),
                            interpolation=cv2.INTER_AREA) for f in frames]
        self.inner = ModelPairFlow(model, small)

    def __call__(self, target, source):
        import torch
        import torch.nn.functional as F
        out = self.inner(target, source)
        h, w = self.full
        res = {}
        for k in ('flow', 'flow_back'):
            f = out[k][None]
            sx, sy = w / f.shape[-1], h / f.shape[-2]
            f = F.interpolate(f, size=(h, w), mode='bilinear',
                              align_corners=False)[0]
            res[k] = f * torch.tensor([sx, sy]).view(2, 1, 1)
        res['occ'] = F.interpolate(out['occ'][None, None], size=(h, w),
                                   mode='bilinear', align_corners=False)[0, 0]
        return res


def main(argv=None):
    """Returns the :class:`PropagationStats` summary (``--gt-dir``) or
    None."""
    args = parse_args(argv)
    from efc_mm.apis.label_propagation import (ModelPairFlow,
                                               PropagationStats,
                                               propagate_clip, zero_pair_flow)
    from efc_mm.apis.video_io import list_frame_files
    if not osp.isdir(args.frames_dir):
        raise FileNotFoundError(f'frames folder not found: {args.frames_dir}')
    frames = list_frame_files(args.frames_dir)
    label_map = parse_label_map(args.label_map)
    labels = read_labels(args.label, label_map)
    k = find_frame(frames, args.label, args.frame)
    shape = cv2.imread(frames[k], cv2.IMREAD_COLOR).shape[:2]
    if labels.shape != shape:
        raise ValueError(f'{args.label} is {labels.shape[::-1]} (W, H) but '
                         f'its frame {frames[k]} is {shape[::-1]}')
    lo, hi = max(0, k - args.radius), min(len(frames), k + args.radius + 1)
    outs = {j: osp.join(args.out_dir, _stem(frames[j]) + '.png')
            for j in range(lo, hi) if j != k}
    existing = [o for o in outs.values() if osp.exists(o)]
    if existing:
        raise FileExistsError(f'{existing[0]} exists already (and '
                              f'{len(existing) - 1} more); propagate_labels '
                              'never overwrites')
    if args.zero_flow:
        pair_flow = zero_pair_flow(shape)
        how = 'zero flow'
    else:
        from efc_mm.apis import init_model
        from efc_mm.utils import register_all_modules
        register_all_modules()
        model = init_model(args.config, args.checkpoint, device=args.device)
        if args.resize:
            pair_flow = _ResizedPairFlow(model, frames, args.resize)
        else:
            pair_flow = ModelPairFlow(model, frames)
        how = f'model flow, {args.mode}, visibility {args.visibility}'
    stats = PropagationStats() if args.gt_dir else None
    os.makedirs(args.out_dir, exist_ok=True)
    steps = propagate_clip(labels, k, len(frames), args.radius, pair_flow,
                           mode=args.mode, visibility=args.visibility)
    if not args.no_progress:
        from tqdm import tqdm
        steps = tqdm(steps, total=len(outs), unit='frame', desc='propagate')
    for j, d, out in steps:
        lab = out.numpy().astype(np.uint8)
        if not cv2.imwrite(outs[j], lab):
            raise OSError(f'could not write {outs[j]}')
        if stats is not None:
            gt = read_labels(osp.join(args.gt_dir,
                                      _stem(frames[j]) + '.png'), label_map)
            stats.update(d, lab, gt, labels)
    print(f'{osp.basename(frames[k])} -> {len(outs)} frames in '
          f'{args.out_dir} ({how})')
    if stats is None:
        return None
    summary = stats.summary()
    print('distance | accuracy % (kept px) | coverage % | zero flow on '
          'same px %')
    for d, r in summary.items():
        print(f'{d:8d} | {r["accuracy"]:20.2f} | {r["coverage"]:10.2f} | '
              f'{r["zero_flow_accuracy_same"]:8.2f}')
    return summary


if __name__ == '__main__':
    from efc_mm.utils.cli import run_main
    run_main(main, FileNotFoundError, FileExistsError, ValueError)
