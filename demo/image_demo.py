"""Segment an image, or segment a pair and show its flow and occlusion.

Examples::

    python demo/image_demo.py img.png CONFIG CKPT --out seg.png
    python demo/image_demo.py frame1.png CONFIG CKPT --img2 frame2.png \\
        --out pair.png     # two rows: frame | seg | flow | occlusion
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import cv2  # noqa: E402

from efc_mm.utils import register_all_modules  # noqa: E402
from efc_mm.apis import (inference_pair, inference_segmentor,  # noqa: E402
                         init_model, read_image)
from efc_mm.apis.inference import warn_random_weights  # noqa: E402
from efc_mm.visualization import make_pair_panel, make_panel  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('img', help='image (frame i)')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='checkpoint (default: random weights)')
    parser.add_argument('--img2', help='second frame (i+t): pair mode')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--max-flow', type=float, default=None,
                        help='flow magnitude (px) of full colour (the rim '
                        'of the key drawn under each flow tile); default: '
                        'the largest vector of the pair')
    parser.add_argument('--opacity', type=float, default=0.5)
    return parser.parse_args(argv)


def main(argv=None):
    """Run the demo; returns the panel (BGR uint8)."""
    args = parse_args(argv)
    register_all_modules()  # registries + runtime patches (efc_mm.compat)
    if args.checkpoint is None:
        warn_random_weights(args.config)
    model = init_model(args.config, args.checkpoint, device=args.device)
    img = read_image(args.img)
    meta = getattr(model, 'dataset_meta', None)
    if args.img2:
        img2 = read_image(args.img2)
        panel = make_pair_panel(img, img2, inference_pair(model, img, img2),
                                dataset_meta=meta, max_flow=args.max_flow,
                                alpha=args.opacity)
    else:
        seg = inference_segmentor(model, img).pred_sem_seg.data[0]
        panel = make_panel(img, seg, dataset_meta=meta, alpha=args.opacity,
                           with_image=True)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    if not cv2.imwrite(args.out, panel):
        raise OSError(f'could not write {args.out}')
    print(f'wrote {args.out} ({panel.shape[1]}x{panel.shape[0]})')
    return panel


if __name__ == '__main__':
    from efc_mm.utils.cli import run_main
    run_main(main, FileNotFoundError, ValueError, OSError)
