"""Test (and evaluate) a trained model: mIoU, flow EPE / Fl-all and
temporal consistency, whichever the config's ``test_evaluator`` names.

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG --checkpoint CHECKPOINT --show-dir vis
    tools/dist_test.sh CONFIG CHECKPOINT 8
    mim test efc_mm CONFIG --checkpoint CHECKPOINT
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

from efc_mm.utils import (check_config_types,  # noqa: E402
                         register_all_modules)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) an EFC / mmseg model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--checkpoint', dest='checkpoint_opt',
                        help='checkpoint file (same as the positional one)')
    parser.add_argument(
        '--work-dir',
        help='if specified, the evaluation results are dumped there as json')
    parser.add_argument(
        '--out', type=str,
        help='directory to save output predictions for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved (under the '
        'work_dir/timestamp)')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override some settings in the used config (xxx=yyy)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument(
        '--tta', action='store_true', help='Test time augmentation')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.checkpoint and args.checkpoint_opt and \
            args.checkpoint != args.checkpoint_opt:
        parser.error('two different checkpoints given')
    args.checkpoint = args.checkpoint or args.checkpoint_opt
    if not args.checkpoint:
        parser.error('a checkpoint is required (positional or --checkpoint)')
    if not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint file not found: {args.checkpoint}')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg, args):
    """Turn on drawing in the config's visualization hook."""
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks to use '
            '--show / --show-dir: visualization=dict(type="SegVisualizationHook")')
    hook = default_hooks['visualization']
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir
    return cfg


def main(argv=None):
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)  # + runtime patches
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    check_config_types(cfg, args.config)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        if 'tta_pipeline' not in cfg or 'tta_model' not in cfg:
            raise ValueError(f'{args.config}: --tta needs `tta_pipeline` and '
                             '`tta_model` in the config')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
