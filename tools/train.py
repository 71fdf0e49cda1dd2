"""Train an EFC (or plain mmseg) segmentor. The usual mmseg arguments.

Examples::

    python tools/train.py configs/psp_efc_cityscapes.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume
    tools/dist_train.sh CONFIG 8            # multi-GPU (torch.distributed)
    mim train efc_mm CONFIG                 # after pip install
"""
import argparse
import logging
import os
import os.path as osp
import sys

# Make `import efc_mm` work when run from a source checkout without install.
sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

from efc_mm.utils.cli import (add_run_args, load_tool_config,  # noqa: E402
                              set_work_dir)
from efc_mm.utils.pretrained import explain_pretrained_errors  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmseg.registry import RUNNERS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a segmentor (EFC)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the latest checkpoint in the work_dir '
        'automatically, or from the given checkpoint path')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (GPU only)')
    add_run_args(parser)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg, threads_msg = load_tool_config(args)

    set_work_dir(cfg, args, row_suffix=True)

    if args.amp:
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.',
                      logger='current', level=logging.WARNING)
        elif optim_wrapper != 'OptimWrapper':
            raise ValueError('--amp is only supported when optim_wrapper.type'
                             f' is OptimWrapper, got {optim_wrapper}')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    runner.logger.info(threads_msg)
    # offline / missing weights file: name the checkpoint and the fix
    with explain_pretrained_errors(cfg.model):
        runner.train()


if __name__ == '__main__':
    main()
