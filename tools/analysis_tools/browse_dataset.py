"""Look at what the model is trained on: samples after the data pipeline.

As mmseg's ``browse_dataset.py``, for EFC's pair datasets: builds the
config's train (or val / test) dataset, runs its pipeline (random crops,
flips, photometric distortion, ... exactly as in training) and writes one
panel per sample to ``--output-dir``: a row per frame with the frame as the
model gets it | its label overlay | the ground-truth flow to the other frame
(Middlebury colours) | the ground-truth occlusion, drawn with
:func:`efc_mm.visualization.make_pair_panel`. Maps the pipeline does not
produce (no label on an unlabelled frame, no flow for Cityscapes) are left
out or shown as n/a. Single-frame datasets give image | label panels.

Ground-truth flow exists only where the dataset provides it: the
consecutive-pair mode of the Cityscapes-layout datasets (synthetic world,
Cityscapes with a flow folder) and KITTI's evaluation pairs; EFC's training
pairs (random gaps of 1-5 frames) have none, since EFC learns flow without
supervision. To see ground-truth flow and occlusion through the *train*
pipeline of the quick start, switch its train dataset to consecutive pairs::

    python tools/analysis_tools/browse_dataset.py \\
        configs/quickstart/psp_efc_tiny_synthetic_cpu.py --output-dir browse/ \\
        --cfg-options train_dataloader.dataset.mode=consecutive \\
        train_dataloader.dataset.data_prefix.flow_occ_path=flow_occ/train \\
        train_dataloader.dataset.data_prefix.occ_path=occlusion/train \\
        train_dataloader.dataset.data_prefix.seq_seg_map_path=\\
gtFine_sequence/train

Examples::

    python tools/analysis_tools/browse_dataset.py \\
        configs/quickstart/psp_efc_tiny_synthetic_cpu.py \\
        --output-dir browse/ -n 8
    python tools/analysis_tools/browse_dataset.py CONFIG --split val \\
        --output-dir browse_val/
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import cv2  # noqa: E402
import numpy as np  # noqa: E402


def _np(x):
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _field(element, name):
    if element is None or name not in element:
        return None
    value = element.get(name)
    return _np(getattr(value, 'data', value))


def _image(t):
    """``(3, H, W)`` tensor (BGR, as packed) -> ``(H, W, 3)`` uint8 BGR."""
    img = _np(t).transpose(1, 2, 0)
    return np.clip(img, 0, 255).astype(np.uint8)


def gt_maps(sample) -> dict:
    """Ground-truth maps of a packed pair sample in the keys of
    :func:`~efc_mm.visualization.make_pair_panel` (``seg1``, ``seg2``,
    ``flow_fw``, ``flow_bw``, ``occ_fw``, ``occ_bw``); an unlabelled
    frame's all-255 label is left out."""
    maps = {}
    for k, name in (('1', 'frame1'), ('2', 'frame2')):
        seg = _field(getattr(sample, name, None), 'gt_sem_seg')
        if seg is not None and not (seg == 255).all():
            maps['seg' + k] = seg.reshape(seg.shape[-2:])
    for d in ('fw', 'bw'):
        f = _field(sample, f'gt_flow_{d}')
        if f is not None:
            maps[f'flow_{d}'] = f.transpose(1, 2, 0)
        o = _field(sample, f'gt_occ_{d}')
        if o is not None:
            maps[f'occ_{d}'] = o.reshape(o.shape[-2:])
    return maps


def draw_sample(item: dict, dataset_meta: dict, max_flow=None):
    """Panel (BGR uint8) of one pipeline output ``dict(inputs,
    data_samples)``, and a short description."""
    from efc_mm.visualization import (add_title, make_pair_panel,
                                      make_panel)
    inputs, sample = item['inputs'], item['data_samples']
    if _np(inputs).ndim == 4:  # a pair (2, 3, H, W)
        img1, img2 = _image(inputs[0]), _image(inputs[1])
        maps = gt_maps(sample)
        if 'seg1' not in maps:  # make_pair_panel sizes tiles by seg1 /
            maps.setdefault('seg1', np.full(img1.shape[:2], 255))
        panel = make_pair_panel(img1, img2, maps, dataset_meta=dataset_meta,
                                max_flow=max_flow)
        meta = sample.metainfo
        desc = (f'{osp.basename(str(meta.get("img_path", "")))} + gap '
                f'{meta.get("frame_gap", "?")}, labelled '
                f'{tuple(meta.get("labelled", ()))}')
    else:
        img = _image(inputs)
        seg = _field(sample, 'gt_sem_seg')
        panel = make_panel(img, seg=None if seg is None else
                           seg.reshape(seg.shape[-2:]),
                           dataset_meta=dataset_meta)
        desc = osp.basename(str(sample.metainfo.get('img_path', '')))
    return add_title(panel, desc), desc


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('--output-dir', required=True,
                        help='folder for the panels')
    parser.add_argument('--split', choices=['train', 'val', 'test'],
                        default='train', help='which dataloader\'s dataset')
    parser.add_argument('-n', '--show-number', type=int, default=10,
                        help='number of samples to draw')
    parser.add_argument('--max-flow', type=float, default=None,
                        help='flow magnitude of full colour (default: per '
                        'panel maximum)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.show_number < 1:
        parser.error('--show-number must be >= 1')
    return args


def main(argv=None):
    """Returns the written panel paths."""
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from efc_mm.utils import register_all_modules
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    register_all_modules()
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    key = f'{args.split}_dataloader'
    if key not in cfg or 'dataset' not in cfg[key]:
        raise KeyError(f'{args.config} has no {key}.dataset')
    dataset = DATASETS.build(cfg[key]['dataset'])
    os.makedirs(args.output_dir, exist_ok=True)
    n = min(args.show_number, len(dataset))
    written = []
    for i in range(n):
        panel, desc = draw_sample(dataset[i], dataset.metainfo,
                                  args.max_flow)
        stem = osp.splitext(desc.split(' ')[0])[0] or 'sample'
        path = osp.join(args.output_dir, f'{i:04d}_{stem}.png')
        if not cv2.imwrite(path, panel):
            raise OSError(f'could not write {path}')
        written.append(path)
    print(f'wrote {len(written)} panel(s) of {args.split} samples to '
          f'{args.output_dir}')
    return written


if __name__ == '__main__':
    from efc_mm.utils.cli import run_main
    run_main(main, FileNotFoundError, KeyError, ValueError)
