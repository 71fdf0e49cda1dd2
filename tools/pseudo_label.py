"""Segment a folder of frames with a trained model and write label PNGs.

Runs a segmentor (an efc_mm config, or a plain mmseg config) over every image
under FRAMES_DIR (recursively) and writes one 8-bit label PNG per frame to
OUT_DIR, at the same relative path with the extension replaced by
``--suffix`` (default ``.png``). Pixel values are train ids; with
``--conf-thr T`` only pixels whose softmax confidence (the largest class
probability, from the logits resized to the frame's size) is at least ``T``
keep their label, the others get 255 (ignored by the losses).

The KITTI pseudo-labels of Table 2 (rows UL+OE, UL+TC, UL+OE+TC, full;
``configs/ablation/t2_*``), as in the paper: a Cityscapes model over the
KITTI raw frames, labels written beside them in the folder that
``data_prefix.seg_map_path`` names::

    python tools/pseudo_label.py configs/psp_efc_cityscapes.py \\
        work_dirs/psp_efc_cityscapes/iter_80000.pth \\
        data/kitti/raw data/kitti/raw_pseudo_labels \\
        --conf-thr 0.9 --device cuda:0
    # then in the t2 config (or with --cfg-options):
    #   train_dataloader.dataset.data_prefix.seg_map_path='raw_pseudo_labels'

(``KITTIFlowPairDataset`` looks a frame ``<rel>.png`` up as
``<seg_map_path>/<rel>.png``.) Existing label files are an error unless
``--skip-existing`` (resume an interrupted run) is given.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

#: image suffixes read as frames (case-insensitive)
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff',
                    '.webp', '.ppm')


def list_frames(root: str, recursive: bool = True) -> List[str]:
    """Image files under ``root`` as paths relative to it, sorted.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: no image file under it.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'frames folder not found: {root}')
    rels = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in filenames:
            if n.lower().endswith(IMAGE_EXTENSIONS):
                rels.append(osp.relpath(osp.join(dirpath, n), root))
        if not recursive:
            break
    if not rels:
        raise ValueError(f'no image file under {root} (looked for '
                         f'{", ".join(IMAGE_EXTENSIONS)}'
                         f'{", recursively" if recursive else ""})')
    return sorted(rels)


def confidence_labels(seg_logits: torch.Tensor,
                      conf_thr: float = 0.0,
                      ignore_index: int = 255) -> np.ndarray:
    """Labels and confidence masking from ``(C, H, W)`` logits.

    ``label = argmax_c logits``; ``confidence = max_c softmax(logits)``
    (for a one-channel binary head, whose mmseg logits are already
    sigmoid probabilities ``p``: label ``p > 0.5``, confidence
    ``max(p, 1 - p)``). Pixels with ``confidence < conf_thr`` get
    ``ignore_index``.

    Returns:
        np.ndarray: ``(H, W)`` uint8 labels.
    """
    logits = seg_logits.float()
    if logits.shape[0] == 1:
        p = logits[0]
        label = (p > 0.5).long()
        conf = torch.maximum(p, 1 - p)
    else:
        prob = logits.softmax(dim=0)
        conf, label = prob.max(dim=0)
    if conf_thr > 0:
        label = torch.where(conf >= conf_thr, label,
                            torch.full_like(label, ignore_index))
    return label.cpu().numpy().astype(np.uint8)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config (efc_mm or mmseg)')
    parser.add_argument('checkpoint', help='trained weights')
    parser.add_argument('frames_dir', help='folder of frames (searched '
                        'recursively)')
    parser.add_argument('out_dir', help='folder for the label PNGs')
    parser.add_argument('--conf-thr', type=float, default=0.0,
                        help='keep a label only where its softmax '
                        'probability is >= T (others 255); default 0: '
                        'every pixel labelled')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--suffix', default='.png',
                        help='replaces the frame extension in the output '
                        "name (default '.png'; e.g. '_labelTrainIds.png')")
    parser.add_argument('--no-recursive', action='store_true',
                        help='only the images directly in FRAMES_DIR')
    parser.add_argument('--skip-existing', action='store_true',
                        help='leave existing label files as they are '
                        '(resume); default: refuse to overwrite')
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if not 0.0 <= args.conf_thr <= 1.0:
        parser.error(f'--conf-thr must be in [0, 1], got {args.conf_thr}')
    if not args.suffix.lower().endswith('.png'):
        parser.error(f'--suffix must end with .png (labels are PNGs), got '
                     f'{args.suffix!r}')
    if not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint file not found: {args.checkpoint}')
    return args


def main(argv=None) -> List[str]:
    """Returns the written (or kept) label paths, in frame order."""
    args = parse_args(argv)
    rels = list_frames(args.frames_dir, recursive=not args.no_recursive)
    outs = [osp.join(args.out_dir, osp.splitext(r)[0] + args.suffix)
            for r in rels]
    existing = [o for o in outs if osp.exists(o)]
    if existing and not args.skip_existing:
        raise FileExistsError(
            f'{len(existing)} label file(s) exist already, e.g. '
            f'{existing[0]}; pass --skip-existing to keep them and label '
            'the rest, or choose another OUT_DIR')

    from efc_mm.apis import inference_segmentor, init_model
    from efc_mm.utils import register_all_modules
    register_all_modules()
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options)
    num_classes = int(getattr(model.decode_head, 'num_classes', 0))
    if num_classes > 255:
        raise ValueError(f'{args.config}: {num_classes} classes do not fit '
                         'an 8-bit label PNG with 255 as ignore')
    todo = [(r, o) for r, o in zip(rels, outs)
            if not (args.skip_existing and osp.exists(o))]
    if not args.no_progress:
        from tqdm import tqdm
        todo = tqdm(todo, unit='frame', desc='pseudo labels')
    n_ignored = n_pixels = 0
    for rel, out in todo:
        result = inference_segmentor(model, osp.join(args.frames_dir, rel))
        labels = confidence_labels(result.seg_logits.data, args.conf_thr)
        os.makedirs(osp.dirname(out) or '.', exist_ok=True)
        if not cv2.imwrite(out, labels):
            raise OSError(f'could not write {out}')
        n_ignored += int((labels == 255).sum())
        n_pixels += labels.size
    done = len(todo)
    msg = f'wrote {done} label PNG(s) to {args.out_dir}'
    if len(outs) > done:
        msg += f' ({len(outs) - done} existing kept)'
    if args.conf_thr > 0 and n_pixels:
        msg += (f'; {100.0 * n_ignored / n_pixels:.1f} % of pixels below '
                f'confidence {args.conf_thr:g} set to 255')
    print(msg)
    return outs


if __name__ == '__main__':
    from efc_mm.utils.cli import run_main
    run_main(main, FileNotFoundError, FileExistsError, ValueError)
