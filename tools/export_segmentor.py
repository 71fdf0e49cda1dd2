"""Export the segmentation branch of an EFC model to stock mmseg.

Writes ``OUT_DIR/<config stem>_mmseg.py`` (an ``EncoderDecoder`` config a
plain mmseg install builds, no efc_mm import) and
``OUT_DIR/<config stem>_mmseg.pth`` (segmentor weights only, flow branch
dropped). The exported model predicts exactly what the EFC model's
single-image ``predict`` does (EFC adds no inference cost).

Example::

    python tools/export_segmentor.py configs/psp_efc_cityscapes.py \\
        work_dirs/psp/iter_80000.pth exported/
    # then, with mmseg alone:
    #   from mmseg.apis import init_model, inference_model
    #   model = init_model('exported/psp_efc_cityscapes_mmseg.py',
    #                      'exported/psp_efc_cityscapes_mmseg.pth')

Models with efc_mm-only modules (the Dilation front end / context module)
cannot be exported: the tool stops with an error naming the module.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

from efc_mm.utils import register_all_modules  # noqa: E402
from efc_mm.apis import NotStockMMSegError, export_segmentor  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export an EFC segmentor to a stock mmseg config and '
        'checkpoint')
    parser.add_argument('config', help='EFC config file')
    parser.add_argument('checkpoint', help='EFC checkpoint')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--name', help='output file stem (default: '
                        '<config stem>_mmseg)')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    register_all_modules()  # registries + runtime patches (efc_mm.compat)
    out = export_segmentor(args.config, args.checkpoint, args.out_dir,
                           name=args.name)
    print(f'config:     {out["config"]}')
    print(f'checkpoint: {out["checkpoint"]} ({len(out["dropped_keys"])} '
          'flow-branch tensors dropped)')
    for key, note in sorted(out['notes'].items()):
        print(f'  {key}: {note}')
    return out


if __name__ == '__main__':
    from efc_mm.utils.cli import run_main
    run_main(main, FileNotFoundError, KeyError, NotStockMMSegError)
