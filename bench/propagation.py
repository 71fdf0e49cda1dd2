"""Label propagation with the learnt flow vs zero flow, by distance.

For every labelled frame k of a dataset, its true label map is propagated to
the frames k +- d (d = 1 .. radius) with :mod:`efc_mm.apis.label_propagation`
and compared with their true labels (both datasets have a label for every
frame). Methods:

* ``ours-chain``: the model's flow, consecutive pairs, forward-backward
  visibility (the tool's default);
* ``ours-direct``: the model's flow of the pair (k +- d, k);
* ``ours-chain-all``: as ``ours-chain`` without the visibility check (every
  in-frame pixel kept), to compare with zero flow at full coverage;
* ``zero``: labels copied unchanged (zero flow; every pixel kept);
* ``gt-chain`` (synthetic world only): ground-truth flow and occlusion,
  the ceiling of nearest-neighbour propagation.

For the flow methods, "zero on same px" is the accuracy of the copied labels
on exactly the pixels the method kept (like for like).

Datasets: the synthetic world's val snippets (``gtFine_sequence``: exact
labels for every frame; labelled frame 19 of each snippet) and CamVid's 15
Hz val sequence 0016E5 (101 consecutive labelled frames; labelled frames
every 20 frames from 10; void 11 ignored).

    OMP_NUM_THREADS=1 python bench/propagation.py \\
        --config configs/quickstart/psp_efc_tiny_synthetic_cpu.py \\
        --checkpoint work_dirs/psp_efc_tiny_synthetic_cpu/iter_400.pth
    # -> bench/results/propagation_{synthetic,camvid}.json, propagation.md

``--quick`` (2 labelled frames per dataset, radius 3) is for smoke tests.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from collections import defaultdict

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

CAMVID_VOID = 11


def _read_labels(path, void=None):
    lab = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if lab is None:
        raise FileNotFoundError(f'label file not found or unreadable: {path}')
    lab = lab.astype(np.int64)
    if void is not None:
        lab[lab == void] = 255
    return lab


# ---------------------------------------------------------------- datasets
def synthetic_clips(root, split='val'):
    """``[dict(name, frames, labels, labelled, gt_dir)]`` per snippet."""
    meta_path = osp.join(root, 'meta.json')
    if not osp.isfile(meta_path):
        raise FileNotFoundError(
            f'{meta_path} not found: generate the world first (e.g. '
            'python tools/dataset_converters/generate_synthetic_world.py '
            f'{root}, or run the quick start once)')
    with open(meta_path) as f:
        meta = json.load(f)
    lf = int(meta.get('labelled_frame', 19))
    img_root = osp.join(root, 'leftImg8bit_sequence', split)
    clips = defaultdict(list)
    for city in sorted(os.listdir(img_root)):
        for n in sorted(os.listdir(osp.join(img_root, city))):
            city_, seq, _, _ = n.split('_', 3)
            clips[(city, seq)].append(n)
    out = []
    for (city, seq), names in sorted(clips.items()):
        stems = [n[:-len('_leftImg8bit.png')] for n in names]
        out.append(dict(
            name=f'{city}_{seq}',
            frames=[osp.join(img_root, city, n) for n in names],
            labels=[osp.join(root, 'gtFine_sequence', split, city,
                             s + '_gtFine_labelTrainIds.png') for s in stems],
            stems=[osp.join(city, s) for s in stems],
            labelled=[lf], root=root, split=split, void=None))
    return out


def camvid_clips(root, every=20, first=10):
    img_root = osp.join(root, 'val')
    if not osp.isdir(img_root):
        raise FileNotFoundError(f'CamVid val frames not found: {img_root}')
    names = sorted(n for n in os.listdir(img_root) if n.endswith('.png'))
    return [dict(name='0016E5', frames=[osp.join(img_root, n) for n in names],
                 labels=[osp.join(root, 'valannot', n) for n in names],
                 stems=None, labelled=list(range(first, len(names), every)),
                 root=None, void=CAMVID_VOID)]


class GTChainFlow:
    """Ground-truth flow / occlusion of consecutive synthetic-world frames."""

    def __init__(self, clip):
        self.clip = clip

    def _flow(self, stem, d):
        from efc_mm.fileio.flow_io import read_flow_kitti
        c = self.clip
        path = osp.join(c['root'], 'flow_occ', c['split'],
                        f'{stem}_flow_{d}.png')
        flow, _ = read_flow_kitti(path)
        return torch.from_numpy(np.ascontiguousarray(flow)).permute(2, 0, 1)

    def _occ(self, stem, d):
        c = self.clip
        path = osp.join(c['root'], 'occlusion', c['split'],
                        f'{stem}_occ_{d}.png')
        occ = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if occ is None:
            raise FileNotFoundError(path)
        return torch.from_numpy((occ > 127).astype(np.float32))

    def __call__(self, target, source):
        st = self.clip['stems']
        if source == target - 1:
            d, back = 'bw', 'fw'
        elif source == target + 1:
            d, back = 'fw', 'bw'
        else:
            raise ValueError('ground-truth flow exists for consecutive '
                             'frames only (mode chain)')
        return dict(flow=self._flow(st[target], d),
                    flow_back=self._flow(st[source], back),
                    occ=self._occ(st[target], d))


# ------------------------------------------------------------------ runs
def run_dataset(clips, methods, radius, model, quick=False, log=print):
    from efc_mm.apis.label_propagation import (ModelPairFlow,
                                               PropagationStats,
                                               propagate_clip, zero_pair_flow)
    stats = {m: PropagationStats() for m in methods}
    n_labelled = 0
    for clip in clips:
        truth_cache = {}

        def truth(j, clip=clip, cache=truth_cache):
            if j not in cache:
                cache[j] = _read_labels(clip['labels'][j], clip['void'])
            return cache[j]

        model_flow = ModelPairFlow(model, clip['frames']) \
            if model is not None else None
        labelled = clip['labelled'][:2] if quick else clip['labelled']
        for k in labelled:
            n_labelled += 1
            base = truth(k)
            for m in methods:
                if m == 'zero':
                    flow, mode = zero_pair_flow(base.shape), 'chain'
                elif m == 'gt-chain':
                    flow, mode = GTChainFlow(clip), 'chain'
                else:
                    flow, mode = model_flow, m.split('-')[1]
                vis = 'none' if m.endswith('-all') else 'fb'
                for j, d, out in propagate_clip(base, k, len(clip['frames']),
                                                radius, flow, mode=mode,
                                                visibility=vis):
                    stats[m].update(d, out, truth(j), base)
            log(f'  {clip["name"]} frame {k}: done')
    return {m: s.summary() for m, s in stats.items()}, n_labelled


def markdown(name, res, radius, meta):
    methods = [m for m in ('ours-chain', 'ours-direct', 'ours-chain-all',
                           'gt-chain') if m in res]
    head = '| d | ' + ' | '.join(
        f'{m} acc % | {m} cov % | zero on same px %' for m in methods) + \
        ' | zero flow acc % (all px) |'
    lines = [f'### {name}', '', meta, '', head,
             '|' + '---|' * (1 + 3 * len(methods) + 1)]
    for d in range(1, radius + 1):
        if d not in res['zero']:
            continue
        cells = [str(d)]
        for m in methods:
            r = res[m][d]
            cells += [f'{r["accuracy"]:.2f}', f'{r["coverage"]:.1f}',
                      f'{r["zero_flow_accuracy_same"]:.2f}']
        cells.append(f'{res["zero"][d]["accuracy"]:.2f}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--config', default=osp.join(
        'configs', 'quickstart', 'psp_efc_tiny_synthetic_cpu.py'))
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--world', default='data/efc_synthetic_quick',
                    help='synthetic world root (generated)')
    ap.add_argument('--camvid', default=osp.join(
        REPO, '..', 'shared', 'data', 'camvid'),
        help='CamVid root (SegNet layout); skipped if absent')
    ap.add_argument('--datasets', nargs='+', default=['synthetic', 'camvid'],
                    choices=['synthetic', 'camvid'])
    ap.add_argument('--radius', type=int, default=10)
    ap.add_argument('--out-dir', default=osp.join(REPO, 'bench', 'results'))
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--quick', action='store_true',
                    help='2 labelled frames per dataset, radius 3')
    args = ap.parse_args(argv)
    if args.quick:
        args.radius = min(args.radius, 3)
    from efc_mm.apis import init_model
    from efc_mm.utils import register_all_modules
    register_all_modules()
    torch.set_grad_enabled(False)
    model = init_model(args.config, args.checkpoint, device=args.device)
    os.makedirs(args.out_dir, exist_ok=True)
    md = ['## Label propagation (bench/propagation.py)', '',
          f'Model: `{args.config}`, checkpoint `{args.checkpoint}`; '
          'visibility: forward-backward check (none for ours-chain-all); '
          'acc = % of kept pixels correct, cov = % of labelled pixels '
          'kept.', '']
    results = {}
    for ds in args.datasets:
        if ds == 'synthetic':
            clips = synthetic_clips(args.world)
            methods = ['ours-chain', 'ours-direct', 'ours-chain-all', 'zero',
                       'gt-chain']
        else:
            if not osp.isdir(args.camvid):
                print(f'CamVid not found at {args.camvid}: skipped')
                continue
            clips = camvid_clips(args.camvid)
            methods = ['ours-chain', 'ours-direct', 'ours-chain-all',
                       'zero']
        t0 = time.time()
        print(f'{ds}: {len(clips)} clip(s)')
        res, n = run_dataset(clips, methods, args.radius, model,
                             quick=args.quick)
        secs = time.time() - t0
        out = dict(dataset=ds, config=args.config,
                   checkpoint=args.checkpoint, radius=args.radius,
                   labelled_frames=n, seconds=round(secs, 1),
                   results={m: {str(d): r for d, r in v.items()}
                            for m, v in res.items()})
        path = osp.join(args.out_dir, f'propagation_{ds}.json')
        with open(path, 'w') as f:
            json.dump(out, f, indent=1)
        print(f'wrote {path} ({secs:.0f} s)')
        results[ds] = res
        desc = (f'{n} labelled frame(s), both directions, distances 1..'
                f'{args.radius}.')
        md.append(markdown(ds, res, args.radius, desc))
    path = osp.join(args.out_dir, 'propagation.md')
    with open(path, 'w') as f:
        f.write('\n'.join(md))
    print('\n'.join(md))
    return results


if __name__ == '__main__':
    main()
