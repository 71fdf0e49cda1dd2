"""Temporal consistency (TC) of video segmentation predictions (ETC)."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from efc_mm.registry import METRICS
from ..functional import (iou_from_intersect_union, tc_intersect_union,
                          warp_labels_nearest)
from ._access import as_dict, check_shape, frame, get_data, need

_FLOW_SOURCES = ('auto', 'gt', 'pred')
_OCC_SOURCES = ('auto', 'gt', 'pred', 'none')


@METRICS.register_module()
class TemporalConsistencyMetric(BaseMetric):
    """Temporal consistency of per-frame predictions along optical flow.

    Definition of Liu et al., "Efficient Semantic Video Segmentation with
    Per-frame Inference", ECCV 2020 (ETC), Sec. 4 / their evaluation code:
    for each pair of frames (t, t+1) the prediction of frame t+1 is warped
    into frame t with the flow F_{t->t+1}, by backward warping with
    nearest-neighbour label sampling::

        pred'_t(p) = pred_{t+1}(round(p + F_{t->t+1}(p)))

    and compared with ``pred_t``. Per class, intersection and union of
    ``pred_t`` and ``pred'_t`` are accumulated over **all pairs** of the
    dataset; TC = mean IoU over the classes whose union is non-empty, in %.
    Neither map is ground truth, so no segmentation labels are needed:
    every pair counts, labelled or not.

    Here ``pred_t`` is ``frame1.pred_sem_seg`` and ``pred_{t+1}``
    ``frame2.pred_sem_seg`` of a pair sample (the pair's ``frame_gap`` is
    not checked: ETC uses consecutive frames, so build the test pairs with
    gap 1 for numbers comparable to theirs).

    Pixels that are left out:

    * out of frame: ``p + F(p)`` rounds to a position outside the image;
    * without flow: ``gt_valid_fw == 0`` when the GT flow is used and
      is sparse;
    * occluded (``exclude_occluded=True``, default): ``gt_occ_fw == 1``, or
      ``pred_occ_fw >= occ_threshold``, depending on ``occ_source``:
      ``'auto'`` (default) uses ``gt_occ_fw`` when the sample has it and
      nothing otherwise; ``'gt'`` requires ``gt_occ_fw``; ``'pred'`` uses
      the model's ``pred_occ_fw``; ``'none'`` keeps occluded pixels. ETC
      warps with FlowNet2 flow and its paper describes no occlusion mask
      (**decision**: we mask occlusions by default because an occluded
      pixel has no correspondence, so disagreement there is not
      inconsistency; set ``exclude_occluded=False`` for the unmasked
      variant).
    * ``ignore_index`` in either map.

    Which flow warps:

    * ``flow_source='gt'``: ``gt_flow_fw``; a sample without it raises a
      ``KeyError``. Result key ``TC(flow=gt)``.
    * ``flow_source='pred'``: the model's ``pred_flow_fw``. Result key
      ``TC(flow=<pred_flow_name>)``, by default ``TC(flow=EFC-pred)``.
    * ``flow_source='auto'`` (default): ``gt_flow_fw`` where a sample has
      it, else ``pred_flow_fw``; the two are accumulated *separately* and
      each reported under its own key, so numbers never mix flows.

    Args:
        flow_source (str): ``'auto'``, ``'gt'`` or ``'pred'``.
        exclude_occluded (bool): drop occluded pixels. Defaults to True.
        occ_source (str): ``'auto'``, ``'gt'``, ``'pred'`` or ``'none'``.
        occ_threshold (float): binarises ``pred_occ_fw``. Defaults to 0.5.
        num_classes (int, optional): defaults to
            ``len(dataset_meta['classes'])``.
        ignore_index (int): Defaults to 255.
        pred_flow_name (str): names the predicted flow in the result key.
        collect_device, prefix: see :class:`mmengine.evaluator.BaseMetric`.

    Example config::

        test_evaluator = dict(type='TemporalConsistencyMetric',
                              flow_source='pred')
    """

    def __init__(self,
                 flow_source: str = 'auto',
                 exclude_occluded: bool = True,
                 occ_source: str = 'auto',
                 occ_threshold: float = 0.5,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 pred_flow_name: str = 'EFC-pred',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if flow_source not in _FLOW_SOURCES:
            raise ValueError('TemporalConsistencyMetric: flow_source must be '
                             f'one of {_FLOW_SOURCES}, got {flow_source!r}')
        if occ_source not in _OCC_SOURCES:
            raise ValueError('TemporalConsistencyMetric: occ_source must be '
                             f'one of {_OCC_SOURCES}, got {occ_source!r}')
        self.flow_source = flow_source
        self.exclude_occluded = exclude_occluded
        self.occ_source = occ_source
        self.occ_threshold = float(occ_threshold)
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.pred_flow_name = pred_flow_name

    def _num_classes(self) -> int:
        if self.num_classes is not None:
            return int(self.num_classes)
        meta = self.dataset_meta or {}
        if 'classes' not in meta:
            raise ValueError(
                'TemporalConsistencyMetric: set num_classes, or run it with '
                "a dataset whose metainfo has 'classes'")
        return len(meta['classes'])

    def _key(self, source: str) -> str:
        return 'TC(flow=gt)' if source == 'gt' else \
            f'TC(flow={self.pred_flow_name})'

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store per-pair class intersections / unions."""
        name = type(self).__name__
        num_classes = self._num_classes()
        for sample in data_samples:
            d = as_dict(sample)
            f1 = frame(d, 'frame1', name)
            f2 = frame(d, 'frame2', name)
            hint = '; is the model in pair predict mode?'
            p1 = need(f1, 'pred_sem_seg', f'{name} (frame1)', hint)
            p2 = need(f2, 'pred_sem_seg', f'{name} (frame2)', hint)
            check_shape(p1, p2, 'frame1.pred_sem_seg', 'frame2.pred_sem_seg',
                        name)

            source = self.flow_source
            if source == 'auto':
                source = 'gt' if get_data(d, 'gt_flow_fw') is not None \
                    else 'pred'
            if source == 'gt':
                flow = need(
                    d, 'gt_flow_fw', name,
                    " with flow_source='gt'; use flow_source='pred' to warp "
                    "with the model's flow")
                valid = get_data(d, 'gt_valid_fw')
                fname = 'gt_flow_fw'
            else:
                flow = need(d, 'pred_flow_fw', name,
                            " with flow_source='pred'" + hint)
                valid = None
                fname = 'pred_flow_fw'
            check_shape(flow, p1, fname, 'frame1.pred_sem_seg', name)
            warped, mask = warp_labels_nearest(p2, flow, self.ignore_index)
            if valid is not None:
                check_shape(valid, p1, 'gt_valid_fw',
                            'frame1.pred_sem_seg', name)
                mask = mask & (valid.to(mask.device).reshape(mask.shape) >=
                               0.5)
            occ = self._occlusion(d, name)
            if occ is not None:
                check_shape(occ, p1, 'occlusion map', 'frame1.pred_sem_seg',
                            name)
                mask = mask & ~occ.to(mask.device).reshape(mask.shape)
            inter, union = tc_intersect_union(p1, warped, num_classes, mask,
                                              self.ignore_index)
            self.results.append(
                dict(source=source, intersect=inter.cpu().numpy(),
                     union=union.cpu().numpy()))

    def _occlusion(self, d: dict, name: str):
        """Boolean occlusion map to exclude, or None."""
        if not self.exclude_occluded or self.occ_source == 'none':
            return None
        if self.occ_source in ('auto', 'gt'):
            occ = get_data(d, 'gt_occ_fw')
            if occ is None and self.occ_source == 'gt':
                need(d, 'gt_occ_fw', name, " with occ_source='gt'")
            return None if occ is None else occ >= 0.5
        occ = need(d, 'pred_occ_fw', name, " with occ_source='pred'")
        return occ >= self.occ_threshold

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """``TC(flow=gt)`` and / or ``TC(flow=<pred_flow_name>)`` in %."""
        metrics = {}
        for source in ('gt', 'pred'):
            rows = [r for r in results if r['source'] == source]
            if not rows:
                continue
            inter = np.sum([r['intersect'] for r in rows], axis=0)
            union = np.sum([r['union'] for r in rows], axis=0)
            metrics[self._key(source)] = 100.0 * iou_from_intersect_union(
                inter, union)
        return metrics
