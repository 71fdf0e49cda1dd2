"""Where every loss term's gradient goes, per parameter group.

Builds the config's model (SyncBN as BN, no pretrained weights), runs one
training step on a small random pair batch with every loss schedule at full
weight, differentiates each named loss term separately and prints the
gradient norm it puts on each parameter group (``encoder``, ``seg_head``,
``flow_decoder``, ``occ_head``, and ``flow_encoder`` when the flow branch
has its own), next to what the config declares (each EFC loss module's
``grad_to``; see :mod:`efc_mm.utils.loss_routing`). Exits 1 when a term
reaches other groups than it declares.

Examples::

    python tools/analysis_tools/loss_routing.py configs/ablation/t2_ul_tc.py
    python tools/analysis_tools/loss_routing.py \\
        configs/synthetic/psp_efc_tiny_synthetic.py --row UL+TC --json r.json

JSON: ``{"terms": {term: {group: norm}}, "declared": {term: [groups]},
"mismatches": [...]}``.
"""
import argparse
import json
import sys

import torch


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='config file')
    p.add_argument('--row', default=None,
                   help='apply an ablation row first (efc_mm.ablation)')
    p.add_argument('--json', default=None, help='write the figures here')
    p.add_argument('--size', type=int, nargs=2, default=(64, 64),
                   metavar=('H', 'W'), help='input size (default 64 64)')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def build(config: str, row=None):
    """The config's model for a CPU check: SyncBN -> BN, no weights."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import efc_mm  # noqa: F401  (registers the modules)
    from efc_mm.ablation import apply_row
    from efc_mm.registry import MODELS
    from efc_mm.utils.cli import local_model_cfg
    cfg = Config.fromfile(config)
    if row:
        apply_row(cfg, row)
    init_default_scope(cfg.get('default_scope', 'mmseg'))

    model_cfg = local_model_cfg(cfg.model.to_dict())
    model_cfg.get('data_preprocessor', {}).pop('size', None)
    torch.manual_seed(0)
    return MODELS.build(model_cfg), cfg


def main(argv=None) -> int:
    args = parse_args(argv)
    from efc_mm.utils.loss_routing import (expected_groups,
                                           random_pair_batch, term_norms)
    model, cfg = build(args.config, args.row)
    inputs, samples = random_pair_batch(model.decode_head.num_classes,
                                        size=tuple(args.size),
                                        seed=args.seed)
    max_iters = int(cfg.get('train_cfg', {}).get('max_iters', 1000))
    norms = term_norms(model, inputs, samples, max_iters=max_iters)
    declared = expected_groups(model)
    groups = sorted({g for t in norms.values() for g in t})
    mismatches = []
    print(f"{'term':<18}" + ''.join(f'{g:>14}' for g in groups) +
          '   declared')
    for term, by_group in norms.items():
        got = {g for g, n in by_group.items() if n > 0}
        want = declared.get(term, set())
        flag = '' if got == want else '   <- MISMATCH'
        if flag:
            mismatches.append(f'{term}: reaches {sorted(got)}, declares '
                              f'{sorted(want)}')
        print(f'{term:<18}' + ''.join(f'{by_group.get(g, 0):>14.4g}'
                                      for g in groups) +
              f"   {','.join(sorted(want)) or '-'}{flag}")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(config=args.config, row=args.row, terms=norms,
                           declared={k: sorted(v)
                                     for k, v in declared.items()},
                           mismatches=mismatches), f, indent=1)
    return 1 if mismatches else 0


if __name__ == '__main__':
    sys.exit(main())
