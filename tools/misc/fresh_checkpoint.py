"""Write a checkpoint of a freshly initialised (untrained) model.

Useful to smoke-test ``tools/test.py`` / the demo on a config before any
training, e.g. to see every metric of a test set at chance level::

    python tools/misc/fresh_checkpoint.py CONFIG work_dirs/fresh.pth
    python tools/test.py CONFIG work_dirs/fresh.pth
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import torch  # noqa: E402

import efc_mm  # noqa: E402,F401
from efc_mm.utils import check_config_types, register_all_modules  # noqa
from mmengine.config import Config, DictAction  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('out', help='checkpoint path to write')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    check_config_types(cfg, args.config)
    register_all_modules()
    torch.manual_seed(args.seed)
    cfg.model.pop('pretrained', None)
    model = MODELS.build(cfg.model)
    model.init_weights()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save({'state_dict': model.state_dict(),
                'meta': {'config': cfg.pretty_text, 'seed': args.seed,
                         'note': 'freshly initialised, untrained'}},
               args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
