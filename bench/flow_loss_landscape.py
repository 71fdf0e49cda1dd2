"""Is the configured unsupervised flow loss lowest at the true flow?

Evaluates the flow decoder's own losses (:meth:`EFCFlowDecoder.loss_by_feat`:
L_pm, L_sm, L_occ at the config's weights, levels, resolution and options:
everything that trains the flow except L_cons, which depends on learnt
features) on candidate flows built from exact ground truth:

* ``gt``: the true forward and backward flow;
* ``zero``: no motion;
* ``scale0.5`` / ``scale1.5``: the true flow times 0.5 / 1.5;
* ``shift1px``: the true flow plus a constant 1 px (both components);
* ``smoothed``: the true flow box-blurred (15 x 15 at input resolution),
  i.e. motion boundaries washed out.

Each candidate is fed to the loss as a perfect decoder would output it: the
flow area-downsampled to every decoder level (values in input pixels, as the
decoder's), ``O_est`` = the range-map occlusion of the candidate's opposite
flow at that level (what an ideal occlusion head would predict for that
flow), and segmentation logits = the true labels one-hot (what an ideal
segmentor gives, for ``O_error``).

Data: ``--pairs`` consecutive pairs of the synthetic world (generated on first
use under ``--world-root``), and the real pairs in ``../shared/data/samples``
(KITTI 2015 000000 with its sparse ground truth, Sintel alley, Middlebury
RubberWhale) when present. Real pairs have only forward ground truth, no
backward flow and no labels: for them only the forward photometric and
smoothness terms are evaluated (``O_est`` = 0, no O_error), over the pixels
with ground truth (KITTI's sparse mask weights the photometric mean).

Usage::

    python bench/flow_loss_landscape.py CONFIG [--pairs N] [--json OUT]

Prints a table of mean loss per candidate and its ratio to the loss at the
ground truth (ratio > 1: the truth is preferred). The synthetic totals are
shifted by L_occ's lower bound (``alpha * lambda_occ`` per level and
direction, :func:`occ_offset`) so that they are non-negative and the ratios
mean something.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List

import numpy as np
import torch
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: the real pairs: samples/ of $EFC_SHARED_DATA, else of ../shared/data
SAMPLES = osp.join(os.environ.get('EFC_SHARED_DATA') or osp.join(
    REPO, '..', 'shared', 'data'), 'samples')

CANDIDATES = ('gt', 'zero', 'scale0.5', 'scale1.5', 'shift1px', 'smoothed')


def candidate_flow(name: str, flow: torch.Tensor) -> torch.Tensor:
    """The candidate ``name`` built from the true flow ``(N, 2, H, W)``."""
    if name == 'gt':
        return flow
    if name == 'zero':
        return torch.zeros_like(flow)
    if name.startswith('scale'):
        return flow * float(name[len('scale'):])
    if name == 'shift1px':
        return flow + 1.0
    if name == 'smoothed':
        k = 15
        return F.avg_pool2d(F.pad(flow, [k // 2] * 4, mode='replicate'), k,
                            stride=1)
    raise ValueError(f'unknown candidate {name!r}')


def build_decoder(config: str, cfg_options: dict = None):
    """The flow decoder (with its losses) of ``config``'s model."""
    import efc_mm  # noqa: F401
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    dec_cfg = cfg.model.get('flow_decoder')
    if dec_cfg is None:
        raise ValueError(f'{config}: model.flow_decoder is None (no flow '
                         'branch, no flow loss to evaluate)')
    dec = MODELS.build(dec_cfg)
    if not len(dec.losses):
        raise ValueError(f'{config}: the flow decoder has no flow loss')
    return cfg, dec


def level_sizes(dec, h: int, w: int) -> List[tuple]:
    """Sizes of the decoder's output levels for an ``h x w`` input (coarse
    to fine), as the encoder (stride-2 convs, ceil) produces them."""
    return [(-(-h // s), -(-w // s)) for s in dec.strides]


def pair_context(imgs, out, seg=None):
    """The :class:`~efc_mm.structures.PairContext` of one pair (``imgs``
    ``(2, 3, H, W)`` in [0, 1], frame i then frame i+t) whose decoder output
    is ``out`` (``flows``, ``occlusions``, ``strides``, coarse to fine) and
    whose segmentation logits are ``seg`` (None: no segmentation)."""
    from efc_mm.structures import PairContext
    return PairContext(imgs, imgs, [], [False] * imgs.shape[0],
                       seg_fn=lambda shared: (None, seg),
                       flow_fn=lambda: out)


def loss_modules(dec, cls) -> list:
    """The decoder's loss modules of type ``cls``."""
    return [m for m in dec.losses if isinstance(m, cls)]


def loss_of(dec, imgs, flow_fw, flow_bw, labels=None,
            num_classes=19) -> float:
    """Total configured flow loss of one pair for a candidate (fw, bw)."""
    from efc_mm.models.flow_decoders import flow_to_level_pixels
    from efc_mm.models.losses import PhotometricLoss
    from efc_mm.ops import occlusion_from_range_map
    h, w = imgs.shape[-2:]
    flows = torch.cat([flow_fw, flow_bw])
    out = dict(flows=[], occlusions=[], strides=list(dec.strides))
    for size in level_sizes(dec, h, w):
        f = F.interpolate(flows, size=size, mode='area') if tuple(
            size) != (h, w) else flows
        out['flows'].append(f)
        f_lvl = flow_to_level_pixels(f, (h, w))
        opp = torch.cat([f_lvl[1:], f_lvl[:1]])
        occ = occlusion_from_range_map(opp).clamp(1e-3, 1 - 1e-3)
        out['occlusions'].append(occ)
    seg = None
    if labels is not None:
        lab = labels.clone()
        lab[lab >= num_classes] = 0
        seg = F.one_hot(lab.long(), num_classes).permute(0, 3, 1, 2).float()
        seg = seg * 10.0
    # without labels there is no O_error: switched off for this call
    no_seg = [] if seg is not None else [
        m for m in loss_modules(dec, PhotometricLoss) if m.seg_error]
    for m in no_seg:
        m.seg_error = False
    try:
        losses = dec.loss_by_feat(pair_context(imgs, out, seg))
    finally:
        for m in no_seg:
            m.seg_error = True
    return float(sum(v for v in losses.values()))


def forward_only_loss(dec, img1, img2, flow_fw, valid) -> float:
    """Forward-direction L_pm + L_sm of a real pair (no backward ground
    truth, no labels): the configured modules' weights, levels and
    resolution, ``O_est`` = 0, photometric mean over ``valid``."""
    from efc_mm.models.flow_decoders import flow_to_level_pixels
    from efc_mm.models.losses import PhotometricLoss, SmoothnessLoss
    from efc_mm.ops import warp
    h, w = img1.shape[-2:]
    total = 0.0
    mods = [m for m in dec.losses
            if isinstance(m, (PhotometricLoss, SmoothnessLoss))]
    weights = [m.weights_for(len(dec.strides)) for m in mods]
    for lvl, size in enumerate(level_sizes(dec, h, w)):
        f_in = F.interpolate(flow_fw, size=size, mode='area') if tuple(
            size) != (h, w) else flow_fw
        f_lvl = flow_to_level_pixels(f_in, (h, w))
        for mod, wgt in zip(mods, (wl[lvl] for wl in weights)):
            if not wgt:
                continue
            if mod.resolution == 'input':
                f, i1, i2 = F.interpolate(f_in, size=(h, w), mode='bilinear',
                                          align_corners=False), img1, img2
                v = valid
            else:
                f = f_lvl
                i1 = F.interpolate(img1, size=size, mode='area')
                i2 = F.interpolate(img2, size=size, mode='area')
                v = F.interpolate(valid, size=size, mode='area')
            if isinstance(mod, PhotometricLoss):
                i2w, inside = warp(i2, f)
                total += wgt * float(mod.compute(i1, i2w, None, None,
                                                 inside * v))
            else:
                total += wgt * float(mod.compute(f, i1))
    return total


# ---------------------------------------------------------------- data
def synthetic_pairs(root: str, n: int, world: dict):
    """``n`` consecutive pairs of the synthetic world at ``root`` (val then
    train snippets, spread over the frames): (img1, img2, fw, bw, lab1,
    lab2, name) as tensors, images RGB in [0, 1]."""
    import glob

    import cv2

    from efc_mm.datasets.synthetic_world import prepare_world
    from efc_mm.fileio import read_flow_kitti
    prepare_world(root, world)
    seq = sorted(glob.glob(osp.join(root, 'leftImg8bit_sequence', '*', '*',
                                    '*_leftImg8bit.png')))
    by_snip: Dict[str, list] = {}
    for p in seq:
        stem = osp.basename(p)[:-len('_leftImg8bit.png')]
        city, snip, frame = stem.rsplit('_', 2)
        by_snip.setdefault(osp.join(osp.dirname(p), f'{city}_{snip}'),
                           []).append(int(frame))
    keys = sorted(by_snip)
    out = []
    i = 0
    while len(out) < n and i < 10 * n:
        key = keys[i % len(keys)]
        frames = sorted(by_snip[key])
        k = frames[(7 * (i // len(keys)) + 3 * i) % (len(frames) - 1)]
        i += 1
        d, base = osp.split(key)
        split, city = d.split(osp.sep)[-2], d.split(osp.sep)[-1]

        def rd(kind, frame, suffix, folder):
            return osp.join(root, folder, split, city,
                            f'{base}_{frame:06d}_{suffix}')
        im1 = cv2.imread(rd('img', k, 'leftImg8bit.png',
                            'leftImg8bit_sequence'))[..., ::-1] / 255.0
        im2 = cv2.imread(rd('img', k + 1, 'leftImg8bit.png',
                            'leftImg8bit_sequence'))[..., ::-1] / 255.0
        fw, _ = read_flow_kitti(rd('f', k, 'flow_fw.png', 'flow_occ'))
        bw, _ = read_flow_kitti(rd('f', k + 1, 'flow_bw.png', 'flow_occ'))
        l1 = cv2.imread(rd('l', k, 'gtFine_labelTrainIds.png',
                           'gtFine_sequence'), cv2.IMREAD_UNCHANGED)
        l2 = cv2.imread(rd('l', k + 1, 'gtFine_labelTrainIds.png',
                           'gtFine_sequence'), cv2.IMREAD_UNCHANGED)

        def t(a):
            return torch.from_numpy(np.ascontiguousarray(a)).float()
        out.append((t(im1).permute(2, 0, 1)[None], t(im2).permute(2, 0, 1)[None],
                    t(fw).permute(2, 0, 1)[None], t(bw).permute(2, 0, 1)[None],
                    t(l1)[None], t(l2)[None], f'{base}_{k:06d}'))
    return out


def real_pairs(max_side: int = 512):
    """The real pairs of ../shared/data/samples with forward ground truth:
    (name, img1, img2, flow_fw, valid), downscaled so the longer side is at
    most ``max_side`` (flow vectors scaled with the image)."""
    import cv2

    from efc_mm.fileio import read_flo, read_flow_kitti
    items = []
    spec = [
        ('kitti15_000000', '000000_10.png', '000000_11.png',
         'flow_gt_000000_10.png', 'kitti'),
        ('sintel_alley_pair', 'frame_0001.png', 'frame_0002.png',
         'frame_0001.flo', 'flo'),
        ('middlebury_rubberwhale', 'frame10.png', 'frame11.png', 'flow10.flo',
         'flo'),
    ]
    for name, a, b, f, kind in spec:
        d = osp.join(SAMPLES, name)
        if not osp.isdir(d):
            continue
        i1 = cv2.imread(osp.join(d, a))[..., ::-1] / 255.0
        i2 = cv2.imread(osp.join(d, b))[..., ::-1] / 255.0
        if kind == 'kitti':
            flow, valid = read_flow_kitti(osp.join(d, f))
        else:
            flow = read_flo(osp.join(d, f))
            valid = (np.abs(flow) < 1e9).all(-1).astype(np.float32)
            flow = np.where(valid[..., None] > 0, flow, 0)
        h, w = i1.shape[:2]
        s = min(1.0, max_side / max(h, w))
        if s < 1.0:
            nw, nh = int(round(w * s)), int(round(h * s))
            i1 = cv2.resize(i1, (nw, nh), interpolation=cv2.INTER_AREA)
            i2 = cv2.resize(i2, (nw, nh), interpolation=cv2.INTER_AREA)
            fl = cv2.resize(flow * valid[..., None], (nw, nh),
                            interpolation=cv2.INTER_AREA)
            vv = cv2.resize(valid, (nw, nh), interpolation=cv2.INTER_AREA)
            flow = np.where(vv[..., None] > 0, fl / np.maximum(
                vv[..., None], 1e-6), 0) * np.array([nw / w, nh / h])
            valid = (vv > 0.99).astype(np.float32)

        def t(x):
            return torch.from_numpy(np.ascontiguousarray(x)).float()
        items.append((name, t(i1).permute(2, 0, 1)[None],
                      t(i2).permute(2, 0, 1)[None],
                      t(flow).permute(2, 0, 1)[None], t(valid)[None, None]))
    return items


# ---------------------------------------------------------------- main
def occ_offset(dec) -> float:
    """Lower bound of the configured L_occ summed over levels and both
    directions (``BCE >= 0`` and ``-alpha exp(-O) >= -alpha``): adding it
    makes every total non-negative, so ratios are meaningful."""
    from efc_mm.models.losses import OcclusionLoss
    return sum((2 * oc.alpha * oc.current_weight *
                sum(oc.weights_for(len(dec.strides)))
                for oc in loss_modules(dec, OcclusionLoss)), 0.0)


#: the quick start's world (the default synthetic pairs)
QUICK_WORLD = dict(num_train_snippets=24, num_val_snippets=4, height=128,
                   width=256, seed=0)


def landscape(config: str, pairs: int = 50, world_root: str = None,
              with_real: bool = True, cfg_options: dict = None,
              world: dict = None) -> dict:
    """Mean configured flow loss per candidate (synthetic and real pairs)
    and the ratio to the ground truth's."""
    with torch.no_grad():
        return _landscape(config, pairs, world_root, with_real, cfg_options,
                          world)


def _landscape(config, pairs, world_root, with_real, cfg_options, world):
    cfg, dec = build_decoder(config, cfg_options)
    dec.eval()
    offset = occ_offset(dec)
    world = world or QUICK_WORLD
    root = world_root or osp.join(REPO, 'data', 'efc_synthetic_quick')
    syn = synthetic_pairs(root, pairs, world)
    res = dict(config=config, cfg_options=cfg_options or {},
               pairs=len(syn), occ_offset=offset, synthetic={}, real={})
    for cand in CANDIDATES:
        vals = []
        for i1, i2, fw, bw, l1, l2, _ in syn:
            imgs = torch.cat([i1, i2])
            vals.append(offset + loss_of(dec, imgs, candidate_flow(cand, fw),
                                         candidate_flow(cand, bw),
                                         labels=torch.cat([l1, l2])))
        res['synthetic'][cand] = dict(mean=float(np.mean(vals)),
                                      std=float(np.std(vals)))
    gt = res['synthetic']['gt']['mean']
    for cand in CANDIDATES:
        res['synthetic'][cand]['ratio_to_gt'] = \
            res['synthetic'][cand]['mean'] / gt
    if with_real:
        for name, i1, i2, fw, valid in real_pairs():
            row = {}
            for cand in CANDIDATES:
                row[cand] = forward_only_loss(dec, i1, i2,
                                              candidate_flow(cand, fw), valid)
            g = row['gt']
            res['real'][name] = {c: dict(loss=v, ratio_to_gt=v / g)
                                 for c, v in row.items()}
    return res


def print_table(res: dict) -> None:
    print(f"config: {res['config']} {res['cfg_options']} "
          f"({res['pairs']} synthetic pairs)")
    print(f"{'candidate':<10} {'synthetic mean':>15} {'ratio':>7}  " +
          '  '.join(f'{n[:12]:>12}' for n in res['real']))
    for cand in CANDIDATES:
        s = res['synthetic'][cand]
        reals = '  '.join(f"{res['real'][n][cand]['ratio_to_gt']:>12.3f}"
                          for n in res['real'])
        print(f"{cand:<10} {s['mean']:>15.5f} {s['ratio_to_gt']:>7.3f}  "
              f'{reals}')
    print('(ratio = loss / loss at the ground truth; > 1 everywhere means '
          'the truth is the minimum among these candidates; real columns: '
          'forward L_pm + L_sm only)')


def main(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--pairs', type=int, default=50)
    p.add_argument('--world-root', default=None,
                   help='synthetic world (generated if missing); default '
                   'data/efc_synthetic_quick')
    p.add_argument('--no-real', action='store_true')
    p.add_argument('--json', default=None, help='write the results here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config settings (mmengine syntax)')
    a = p.parse_args(argv)
    res = landscape(a.config, a.pairs, a.world_root, not a.no_real,
                    a.cfg_options)
    print_table(res)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(res, f, indent=1)
    return res


if __name__ == '__main__':
    sys.exit(main() and 0)
