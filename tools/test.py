"""Test (and evaluate) a trained model: mIoU, flow EPE / Fl-all and
temporal consistency, whichever the config's ``test_evaluator`` names.

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG --checkpoint CHECKPOINT --show-dir vis
    python tools/test.py CONFIG CHECKPOINT --out preds/
    tools/dist_test.sh CONFIG CHECKPOINT 8
    mim test efc_mm CONFIG --checkpoint CHECKPOINT
"""
import argparse
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

from efc_mm.utils.cli import (add_run_args, load_tool_config,  # noqa: E402
                              set_work_dir)
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
        help='directory to save output predictions for offline evaluation '
        '(label PNGs per frame; for pairs also flow_fw|bw/*.flo and '
        'occ_fw|bw/*.png)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved (in '
        'DIR/vis_data/vis_image; pair test sets get pair panels)')
    parser.add_argument(
        '--show-interval', type=int, default=None,
        help='draw every N-th test iteration (default: the visualization '
        "hook's interval; mmseg's default is 50)")
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta', action='store_true', help='Test time augmentation')
    add_run_args(parser)
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


#: mmseg visualisation classes and their efc_mm supersets (which also draw
#: pair samples and draw single frames exactly as mmseg)
PAIR_VIS_UPGRADES = {'SegVisualizationHook': 'PairSegVisualizationHook',
                     'mmseg.SegVisualizationHook': 'PairSegVisualizationHook',
                     'SegLocalVisualizer': 'PairLocalVisualizer',
                     'mmseg.SegLocalVisualizer': 'PairLocalVisualizer'}


def trigger_visualization_hook(cfg, args):
    """Turn on drawing in the config's visualization hook (as mmseg's
    tools/test.py), with mmseg's hook / visualizer replaced by efc_mm's
    pair-aware ones (identical for single frames) so that pair test sets
    are drawn too."""
    default_hooks = cfg.get('default_hooks') or {}
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            f'{args.config}: --show / --show-dir need a visualization hook '
            'in default_hooks, e.g. default_hooks = dict(visualization='
            "dict(type='PairSegVisualizationHook'))")
    hook = default_hooks['visualization']
    for obj in (hook, cfg.get('visualizer')):
        if isinstance(obj, dict) and obj.get('type') in PAIR_VIS_UPGRADES:
            obj['type'] = PAIR_VIS_UPGRADES[obj['type']]
    hook['draw'] = True
    if args.show_interval is not None:
        hook['interval'] = args.show_interval
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        if not isinstance(cfg.get('visualizer'), dict):
            raise RuntimeError(f'{args.config}: --show-dir needs a '
                               '`visualizer` entry (e.g. PairLocalVisualizer)')
        cfg.visualizer['save_dir'] = args.show_dir
    return cfg


def _metric_type(metric):
    """The class a metric config names (None if unknown)."""
    from mmseg.registry import METRICS
    kind = metric.get('type') if isinstance(metric, dict) else None
    if not isinstance(kind, str):
        return kind
    try:
        return METRICS.get(kind)
    except Exception:  # noqa: BLE001 - unknown scope
        return None


def set_output_dir(cfg, out_dir: str) -> str:
    """Make the test run write its predictions to ``out_dir``.

    A single mmseg metric that writes predictions (``IoUMetric``) gets
    ``output_dir`` / ``keep_results`` as in mmseg's tools/test.py. Anything
    else (a list of metrics, as every pair config has, or a metric that
    cannot write) gets efc_mm's ``PredictionWriterHook``, which writes the
    same per-frame label PNGs plus, for pairs, ``flow_fw|bw/*.flo`` and
    ``occ_fw|bw/*.png``. Returns which of the two was used.
    """
    import inspect
    evaluator = cfg.get('test_evaluator')
    cls = _metric_type(evaluator) if isinstance(evaluator, dict) else None
    if cls is not None and getattr(cls, '__module__', '').startswith(
            'mmseg.') and 'output_dir' in inspect.signature(
                cls.__init__).parameters:
        cfg.test_evaluator['output_dir'] = out_dir
        cfg.test_evaluator['keep_results'] = True
        return 'metric'
    hooks = list(cfg.get('custom_hooks') or [])
    hooks.append(dict(type='PredictionWriterHook', out_dir=out_dir))
    cfg.custom_hooks = hooks
    return 'hook'


def _images_under(folder: str, since: float) -> list:
    """Image files under ``folder`` modified at or after ``since``."""
    found = []
    for root, _, names in os.walk(folder):
        for n in names:
            p = osp.join(root, n)
            if n.lower().endswith(('.png', '.jpg', '.jpeg')) and \
                    osp.getmtime(p) >= since:
                found.append(p)
    return found


def report_show_dir(cfg, args, since: float) -> list:
    """Say where the painted images went, and why when there is none (a
    run of --show-dir must never end silently without images)."""
    images = _images_under(args.show_dir, since)
    if images:
        print(f'--show-dir: {len(images)} painted images under '
              f'{osp.dirname(sorted(images)[0])}')
        return images
    hook = cfg.default_hooks['visualization']
    interval = hook.get('interval', 50)
    reason = (f'the visualization hook ({hook.get("type")}) draws every '
              f'{interval}-th test iteration; with fewer iterations nothing '
              'is drawn: pass --show-interval 1')
    if str(cfg.get('visualizer', {}).get('type', '')).split('.')[-1] not in (
            'PairLocalVisualizer', 'SegLocalVisualizer'):
        reason += (f'; the visualizer {cfg.visualizer.get("type")} may have '
                   'no image backend (vis_backends=[dict(type='
                   "'LocalVisBackend')])")
    msg = (f'WARNING: --show-dir {args.show_dir}: no image was written '
           f'({reason})')
    print(msg, file=sys.stderr)
    return images


def main(argv=None):
    args = parse_args(argv)
    cfg, threads_msg = load_tool_config(args)
    set_work_dir(cfg, args)
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
        set_output_dir(cfg, args.out)
    start = time.time() - 1
    runner = Runner.from_cfg(cfg)
    runner.logger.info(threads_msg)
    metrics = runner.test()
    from mmengine.dist import is_main_process
    if args.show_dir and is_main_process():  # rank 0 draws (master_only)
        report_show_dir(cfg, args, start)
    return metrics


if __name__ == '__main__':
    main()
