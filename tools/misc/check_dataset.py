"""Scan a config's dataset for bad files before training on it.

Builds ``{split}_dataloader.dataset`` of CONFIG (the layout checks of the
pair datasets run at build: missing frames, labels without frames, ...),
then decodes every image and label once and lists **every** problem at
once: unreadable / corrupt files, frames of one pair (snippet, clip,
sequence) or an image and its label of different sizes, label values
outside the classes that are not the ignore index. The same scan runs at
build with ``verify=True`` on the pair datasets::

    python tools/misc/check_dataset.py configs/psp_efc_cityscapes.py
    python tools/misc/check_dataset.py CONFIG --split val
    python tools/misc/check_dataset.py CONFIG --split pair_test \\
        --cfg-options pair_test_dataloader.dataset.data_root=data/camvid

Exit status: 0 when the dataset is clean, 1 when a problem was found.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import efc_mm  # noqa: E402,F401
from efc_mm.datasets import DataLayoutError, verify_dataset  # noqa: E402
from efc_mm.utils import import_all_modules  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--split', default='train',
        help="which dataloader: 'train', 'val', 'test' or any X with an "
        "X_dataloader in the config (e.g. 'pair_test'). Default: train")
    parser.add_argument('--workers', type=int, default=4,
                        help='decoding threads (default 4)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, as in tools/train.py')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    key = f'{args.split}_dataloader'
    if key not in cfg or not cfg[key] or 'dataset' not in cfg[key]:
        have = sorted(k[:-len('_dataloader')] for k in cfg.keys()
                      if k.endswith('_dataloader') and cfg[k])
        print(f'{args.config} has no {key} with a dataset; splits in this '
              f'config: {", ".join(have) or "none"}', file=sys.stderr)
        return 2
    import_all_modules()
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import DATASETS
    dataset_cfg = cfg[key].dataset
    print(f'building {key}.dataset ({dataset_cfg.get("type")}) ...')
    try:
        dataset = DATASETS.build(dataset_cfg)
    except (DataLayoutError, FileNotFoundError, ValueError) as e:
        print(f'the dataset could not be built:\n{e}', file=sys.stderr)
        return 1
    print(f'{len(dataset)} items; decoding every image and label ...')
    try:
        verify_dataset(dataset, num_workers=args.workers)
    except DataLayoutError as e:
        print(str(e), file=sys.stderr)
        return 1
    print(f'no problems found in {key}.dataset')
    return 0


if __name__ == '__main__':
    sys.exit(main())
