"""FLOPs and parameters: EFC's segmentor vs the stock mmseg model, and what
the flow branch adds in training.

As mmseg's ``get_flops.py`` (same arguments), with two comparisons:

1. **Inference.** The EFC model's single-frame forward (what ``predict``
   runs) against the same config exported to a stock mmseg
   ``EncoderDecoder`` (:func:`efc_mm.apis.export.export_config`; the
   flow branch dropped): parameters and FLOPs must be equal. They are
   reported side by side with the difference.
2. **Training.** The forward of a pair (both frames through the
   segmentor, plus the flow decoder with its cost volume on the pair) minus
   twice the single-frame segmentor: the FLOPs the flow branch adds to each
   training pair (forward only; the backward costs about twice the forward),
   and its parameters.

FLOPs are counted by :class:`torch.utils.flop_counter.FlopCounterMode`
(one multiply-add = 2 FLOPs; convolutions, matrix products, including the
correlation's batched products; element-wise ops, pooling, interpolation
and sampling are not counted). SyncBN is built as BN, no pretrained weights
are loaded.

Examples::

    python tools/analysis_tools/get_flops.py configs/psp_efc_cityscapes.py \\
        --shape 713 713
    python tools/analysis_tools/get_flops.py \\
        configs/quickstart/psp_efc_tiny_synthetic_cpu.py --shape 128 256
"""
import argparse
import copy
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import torch  # noqa: E402


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _flops(model, inputs) -> int:
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(inputs, mode='tensor')
    return int(counter.get_total_flops())


def stock_model_cfg(cfg) -> dict:
    """The stock mmseg model dict of an EFC config (export's conversion;
    configs with efc_mm-only segmentor modules keep them in an
    ``EncoderDecoder``, noted as not stock)."""
    from efc_mm.apis.export import NotStockMMSegError, export_config
    try:
        return export_config(cfg)[0].model.to_dict(), True
    except NotStockMMSegError:
        model = copy.deepcopy(cfg.model.to_dict())
        for k in ('flow_decoder', 'flow_encoder', 'shared_stages',
                  'losses', 'check_finite'):
            model.pop(k, None)
        model['type'] = 'EncoderDecoder'
        model['train_cfg'] = dict()
        dp = dict(model.get('data_preprocessor') or {})
        dp['type'] = 'SegDataPreProcessor'
        model['data_preprocessor'] = dp
        return model, False


def analyse(config, shape=(512, 512), cfg_options=None) -> dict:
    """Build the EFC and stock models of ``config`` and count.

    Returns:
        dict: ``efc_params``, ``stock_params``, ``flow_params``,
        ``efc_seg_params`` (EFC without its flow branch), ``seg_flops_efc``,
        ``seg_flops_stock`` (one frame), ``pair_flops`` (pair forward of
        the EFC model), ``flow_flops`` (``pair_flops - 2 * seg_flops_efc``),
        ``stock`` (the stock model is pure mmseg), ``shape``.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from efc_mm.utils import register_all_modules
    from efc_mm.utils.cli import local_model_cfg
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    register_all_modules()
    init_default_scope('mmseg')
    stock_cfg, pure = stock_model_cfg(cfg)
    torch.manual_seed(0)
    efc = MODELS.build(local_model_cfg(cfg.model.to_dict())).eval()
    stock = MODELS.build(local_model_cfg(stock_cfg)).eval()
    h, w = shape
    frame = torch.randn(1, 3, h, w)
    flow_mod = getattr(efc, 'flow_decoder', None)
    flow_params = _params(flow_mod) if flow_mod is not None else 0
    out = dict(shape=(h, w), stock=pure,
               efc_params=_params(efc), stock_params=_params(stock),
               flow_params=flow_params,
               efc_seg_params=_params(efc) - flow_params,
               seg_flops_efc=_flops(efc, frame),
               seg_flops_stock=_flops(stock, frame))
    if flow_mod is not None:
        out['pair_flops'] = _flops(efc, torch.randn(1, 2, 3, h, w))
        out['flow_flops'] = out['pair_flops'] - 2 * out['seg_flops_efc']
    return out


def _g(x) -> str:
    return f'{x / 1e9:.3f} GFLOPs'


def _m(x) -> str:
    return f'{x / 1e6:.3f} M'


def report(r: dict, config: str) -> str:
    h, w = r['shape']
    stock = 'stock mmseg EncoderDecoder' if r['stock'] else \
        'EncoderDecoder with the same (efc_mm-only) modules'
    lines = [
        '=' * 72, f'{config}, input {h}x{w}', '-' * 72,
        'inference (one frame):',
        f'  EFC segmentor  FLOPs {_g(r["seg_flops_efc"]):>18}  '
        f'params {_m(r["efc_seg_params"])} (w/o flow branch)',
        f'  {stock}',
        f'                 FLOPs {_g(r["seg_flops_stock"]):>18}  '
        f'params {_m(r["stock_params"])}',
        f'  difference     FLOPs {r["seg_flops_efc"] - r["seg_flops_stock"]}'
        f'  params {r["efc_seg_params"] - r["stock_params"]}',
    ]
    if 'flow_flops' in r:
        pct = 100.0 * r['flow_flops'] / max(2 * r['seg_flops_efc'], 1)
        lines += [
            'training (one pair, forward):',
            f'  segmentor x 2  FLOPs {_g(2 * r["seg_flops_efc"]):>18}',
            f'  flow branch    FLOPs {_g(r["flow_flops"]):>18}  '
            f'params {_m(r["flow_params"])}  (+{pct:.1f} % FLOPs)',
            f'  pair forward   FLOPs {_g(r["pair_flops"]):>18}  '
            f'params {_m(r["efc_params"])} (all)',
        ]
    else:
        lines.append('no flow branch (flow_decoder=None)')
    lines += ['=' * 72,
              'FLOPs: torch.utils.flop_counter (2 per multiply-add; conv and '
              'matrix products only). The auxiliary head is a training-only '
              'module of both models (in the params, not in the forward).']
    return '\n'.join(lines)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='FLOPs / params of EFC vs the stock mmseg model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs='+', default=[512, 512],
                        help='input size: H W (or one number for H = W)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if len(args.shape) == 1:
        args.shape = args.shape * 2
    if len(args.shape) != 2 or min(args.shape) < 8:
        parser.error(f'--shape takes H W (each >= 8), got {args.shape}')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    r = analyse(args.config, tuple(args.shape), args.cfg_options)
    print(report(r, args.config))
    return r


if __name__ == '__main__':
    main()
