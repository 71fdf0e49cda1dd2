"""Flow metrics of the trivial zero-flow prediction on a config's test set.

EPE and Fl-all only mean something next to "predict no motion"; this runs
:class:`EFCFlowMetric` on the config's test pairs with ``pred_flow_fw = 0``
(no model involved)::

    python bench/zero_flow_reference.py configs/quickstart/psp_efc_tiny_synthetic_cpu.py
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402

import efc_mm  # noqa: E402,F401
from efc_mm.registry import DATASETS, METRICS  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings (xxx=yyy)')
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope('mmseg')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    metric = METRICS.build(dict(type='EFCFlowMetric', direction='fw'))
    metric.dataset_meta = dataset.metainfo
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        h, w = sample.gt_flow_fw.shape
        sample.pred_flow_fw = PixelData(data=torch.zeros(2, h, w))
        metric.process({}, [sample.to_dict()])
    res = metric.compute_metrics(metric.results)
    print(f'{len(dataset)} pairs, zero flow: ' + ', '.join(
        f'{k} {v:.3f}' for k, v in res.items()))


if __name__ == '__main__':
    main()
