"""Optical-flow accuracy of pair predictions: EPE (all / noc) and Fl."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from efc_mm.registry import FLOW_METRICS, METRICS
from ..functional import flow_error_stats, occlusion_stats
from ._access import as_dict, check_shape, get_data, need

_DIRECTIONS = {'fw': ('fw', ), 'bw': ('bw', ), 'both': ('fw', 'bw')}


class EFCFlowMetric(BaseMetric):
    """End-point error and KITTI flow outliers of ``pred_flow_{fw,bw}``.

    For every pair sample (dict from ``PairDataSample.to_dict()`` or the
    ``PairDataSample`` itself) it compares ``pred_flow_fw`` with
    ``gt_flow_fw`` (``(2, H, W)``, pixels) over the valid pixels:

    * **valid** = ``gt_valid_fw >= 0.5`` when the sample has it (sparse
      KITTI GT), else every pixel (dense GT). Pixels whose GT is non-finite
      or ``>= 1e9`` (Middlebury's 'unknown flow') are never valid.
    * **noc** = ``valid * (1 - gt_occ_fw)`` (1 = occluded). Without
      ``gt_occ_fw`` the sample contributes no noc statistics; the ``*_noc``
      keys appear only when at least one sample had ``gt_occ_fw``. On KITTI
      the dataset derives ``gt_occ_fw`` from ``flow_noc`` (occluded = valid
      in ``flow_occ`` but not in ``flow_noc``), so ``EPE_noc`` is KITTI's
      noc EPE.
    * **EPE** = ``||pred - gt||_2`` per pixel.
    * **Fl** (KITTI 2015 devkit, Menze & Geiger CVPR 2015): percentage of
      pixels that are outliers, i.e. EPE > ``abs_thr`` (3 px) **and**
      EPE > ``rel_thr`` (5 %) of ``|gt|``.

    Two averages are reported; the headline keys follow each metric's usual
    convention:

    =================  ======================================================
    ``EPE_all``        **headline EPE**: mean over images of the per-image
                       mean EPE over valid pixels (mmflow's ``EndPointError``
                       at batch size 1; the usual KITTI/Sintel EPE).
    ``EPE_noc``        same over noc pixels.
    ``Fl_all``         **headline Fl**, in %: outliers / valid pixels pooled
                       over *all* images (the KITTI benchmark's Fl-all).
    ``Fl_noc``         same over noc pixels.
    ``EPE_all_px``     EPE pooled over all valid pixels of all images.
    ``EPE_noc_px``     same over noc pixels.
    ``Fl_all_img``     Fl per image, then mean over images (mmflow's
                       ``FlowOutliers`` at batch size 1).
    ``Fl_noc_img``     same over noc pixels.
    ``Occ_F1``         F-measure (%) of ``pred_occ_fw >= occ_threshold``
                       against ``gt_occ_fw`` over valid pixels, pooled over
                       images; only when both maps exist in some sample.
    ``Occ_acc``        accuracy (%) of the same binary occlusion map.
    =================  ======================================================

    Images without any valid pixel are left out of the per-image means.
    With ``direction='bw'`` the fields ``*_bw`` are used and every key gets
    the suffix ``_bw``; ``direction='both'`` reports both sets.

    mmflow's ``EndPointError`` / ``FlowOutliers`` average the pooled value of
    each *batch* over batches, so they equal ``EPE_all`` / ``Fl_all_img``
    with batch size 1 and ``EPE_all_px`` / ``Fl_all`` when all images form a
    single batch (tested in ``tests/test_metrics.py``). They are not used
    here because they are missing what this metric needs: forward flow only,
    no noc split, no Middlebury 'unknown flow' mask, fixed 3 px / 5 %
    thresholds, a result that changes with the test batch size, and numpy
    on the CPU (the sums here stay on the prediction's device).

    Args:
        direction (str): ``'fw'`` (default), ``'bw'`` or ``'both'``.
        abs_thr (float): Fl absolute threshold in px. Defaults to 3.0.
        rel_thr (float): Fl relative threshold. Defaults to 0.05.
        occ_threshold (float): threshold binarising ``pred_occ_*``.
            Defaults to 0.5.
        collect_device, prefix: see :class:`mmengine.evaluator.BaseMetric`.

    Example config::

        val_evaluator = dict(type='EFCFlowMetric')           # mmseg scope
        test_evaluator = [dict(type='PairIoUMetric'),
                          dict(type='EFCFlowMetric', direction='both'),
                          dict(type='TemporalConsistencyMetric')]
    """

    def __init__(self,
                 direction: str = 'fw',
                 abs_thr: float = 3.0,
                 rel_thr: float = 0.05,
                 occ_threshold: float = 0.5,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if direction not in _DIRECTIONS:
            raise ValueError(f"EFCFlowMetric: direction must be one of "
                             f"{sorted(_DIRECTIONS)}, got {direction!r}")
        self.direction = direction
        self.abs_thr = float(abs_thr)
        self.rel_thr = float(rel_thr)
        self.occ_threshold = float(occ_threshold)

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store per-image sums (tiny; safe to gather across ranks)."""
        name = type(self).__name__
        for sample in data_samples:
            d = as_dict(sample)
            result = {}
            for dr in _DIRECTIONS[self.direction]:
                pred = need(
                    d, f'pred_flow_{dr}', name,
                    '; is the model in pair predict mode (pair test set, '
                    'flow branch enabled)?')
                gt = need(
                    d, f'gt_flow_{dr}', name,
                    '; the test set must provide ground-truth flow '
                    f"(direction='{self.direction}')")
                check_shape(pred, gt, f'pred_flow_{dr}', f'gt_flow_{dr}',
                            name)
                if pred.shape[-3] != 2 or gt.shape[-3] != 2 or \
                        pred.dim() != 3 or gt.dim() != 3:
                    raise ValueError(
                        f"{name}: 'pred_flow_{dr}' and 'gt_flow_{dr}' must be "
                        f'(2, H, W), got {tuple(pred.shape)} and '
                        f'{tuple(gt.shape)}')
                valid = get_data(d, f'gt_valid_{dr}')
                occ = get_data(d, f'gt_occ_{dr}')
                for fld, m in ((f'gt_valid_{dr}', valid),
                               (f'gt_occ_{dr}', occ)):
                    if m is not None:
                        check_shape(m, gt, fld, f'gt_flow_{dr}', name)
                stats = flow_error_stats(pred, gt, valid, occ, self.abs_thr,
                                         self.rel_thr)
                pred_occ = get_data(d, f'pred_occ_{dr}')
                if pred_occ is not None and occ is not None:
                    check_shape(pred_occ, occ, f'pred_occ_{dr}',
                                f'gt_occ_{dr}', name)
                    occ_valid = valid
                    stats.update({
                        f'occ_{k}': v
                        for k, v in occlusion_stats(
                            pred_occ, occ, occ_valid,
                            self.occ_threshold).items()
                    })
                result[dr] = stats
            self.results.append(result)

    @staticmethod
    def _summarise(stats: List[dict], suffix: str) -> Dict[str, float]:
        out = {}
        for region in ('all', 'noc'):
            if region == 'noc':
                rows = [s for s in stats if s['has_noc'] > 0]
                if not rows:
                    continue
            else:
                rows = stats
            n = np.array([s[f'n_{region}'] for s in rows], np.float64)
            e = np.array([s[f'epe_{region}'] for s in rows], np.float64)
            o = np.array([s[f'out_{region}'] for s in rows], np.float64)
            has = n > 0
            tot = n.sum()
            nan = float('nan')
            out[f'EPE_{region}{suffix}'] = float(np.mean(
                e[has] / n[has])) if has.any() else nan
            out[f'Fl_{region}{suffix}'] = float(
                100.0 * o.sum() / tot) if tot > 0 else nan
            out[f'EPE_{region}_px{suffix}'] = float(
                e.sum() / tot) if tot > 0 else nan
            out[f'Fl_{region}_img{suffix}'] = float(100.0 * np.mean(
                o[has] / n[has])) if has.any() else nan
        occ_rows = [s for s in stats if 'occ_tp' in s]
        if occ_rows:
            tp, fp, fn, tn = (sum(s[f'occ_{k}'] for s in occ_rows)
                              for k in ('tp', 'fp', 'fn', 'tn'))
            denom = 2 * tp + fp + fn
            out[f'Occ_F1{suffix}'] = float(
                100.0 * 2 * tp / denom) if denom > 0 else float('nan')
            total = tp + fp + fn + tn
            out[f'Occ_acc{suffix}'] = float(
                100.0 * (tp + tn) / total) if total > 0 else float('nan')
        return out

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Headline keys ``EPE_all``, ``EPE_noc``, ``Fl_all`` (%) and the
        alternative averages; see the class docstring."""
        metrics = {}
        for dr in _DIRECTIONS[self.direction]:
            metrics.update(
                self._summarise([r[dr] for r in results],
                                '' if dr == 'fw' else '_bw'))
        return metrics


METRICS.register_module(module=EFCFlowMetric)
FLOW_METRICS.register_module(module=EFCFlowMetric)
