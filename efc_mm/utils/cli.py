"""What the command-line scripts of tools/ and demo/ share."""
import sys
from typing import Callable, Type

__all__ = ['run_main']


def run_main(main: Callable[[], object], *errors: Type[BaseException]
             ) -> None:
    """Run a script's ``main()``; one of the expected ``errors`` (a missing
    file, a bad argument value, ...) ends the process with ``error:
    <message>`` on stderr and exit status 1 instead of a traceback."""
    try:
        main()
    except errors as exc:
        sys.exit(f'error: {exc}')


def load_tool_config(args):
    """The config of a ``tools/train.py`` / ``tools/test.py`` run, in the
    order both apply: CPU threads chosen (before any work), efc_mm's
    modules registered (+ runtime patches), the config file, the ablation
    row (``--row``), the launcher, ``--cfg-options``, CamVid's label split
    (``label_split`` -> train and held-out evaluation datasets), then every
    ``type`` checked against the registries.

    Args:
        args (argparse.Namespace): with ``config``, ``threads``,
            ``launcher``, ``row`` and ``cfg_options``.

    Returns:
        tuple[Config, str]: the config and the CPU-threads log line.
    """
    from mmengine.config import Config

    from efc_mm.datasets import apply_label_split
    from efc_mm.utils import check_config_types, register_all_modules
    from efc_mm.utils.cpu_threads import choose_cpu_threads
    threads_msg = choose_cpu_threads(args.threads,
                                     distributed=args.launcher != 'none')
    register_all_modules(init_default_scope=False)  # + runtime patches
    cfg = Config.fromfile(args.config)
    if args.row is not None:
        from efc_mm.ablation import apply_row
        apply_row(cfg, args.row)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    apply_label_split(cfg)
    check_config_types(cfg, args.config)
    return cfg, threads_msg


def add_run_args(parser) -> None:
    """The arguments of ``tools/train.py`` / ``tools/test.py`` that
    :func:`load_tool_config` reads, and torch.distributed's
    ``--local-rank``."""
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--threads', type=int, default=None,
        help='PyTorch CPU threads of this process (default on a CPU run: the '
        'cores not busy, i.e. CPUs minus the 1-min load average, at most '
        "PyTorch's default; OMP_NUM_THREADS, if set, is kept)")
    parser.add_argument(
        '--row', default=None,
        help='an ablation row (configs/_base_/ablation/, e.g. baseline, '
        '"UL+TC") applied to the config: efc_mm.ablation.apply_row')
    # torch.distributed.launch passes --local-rank (torch >= 2.0)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def set_work_dir(cfg, args, row_suffix: bool = False) -> None:
    """``cfg.work_dir``: ``--work-dir``, else the config's own, else
    ``./work_dirs/<config file name>`` (with ``row_suffix``, ``_<row>``
    appended for a ``--row`` run, ``+`` written ``_``)."""
    import os.path as osp
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        name = osp.splitext(osp.basename(args.config))[0]
        if row_suffix and args.row is not None:
            name += '_' + args.row.replace('+', '_')
        cfg.work_dir = osp.join('./work_dirs', name)


def local_model_cfg(obj):
    """A copy of a model config (nested dicts / lists) buildable in one
    process without downloads: every ``SyncBN`` -> ``BN``, no
    ``pretrained`` / ``init_cfg``."""
    if isinstance(obj, dict):
        out = {k: local_model_cfg(v) for k, v in obj.items()
               if k not in ('init_cfg', 'pretrained')}
        if out.get('type') == 'SyncBN':
            out['type'] = 'BN'
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(local_model_cfg(v) for v in obj)
    return obj
