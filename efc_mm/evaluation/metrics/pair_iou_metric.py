"""mIoU of the labelled frames of pair samples (mmseg's IoUMetric inside)."""
import logging
from typing import Dict, Optional, Sequence

from mmengine.logging import print_log
from mmseg.evaluation.metrics import IoUMetric

from efc_mm.registry import METRICS
from ._access import as_dict, check_shape, need


@METRICS.register_module()
class PairIoUMetric(IoUMetric):
    """mmseg's :class:`~mmseg.evaluation.metrics.IoUMetric` on pair samples.

    For each pair sample it evaluates ``frameK.pred_sem_seg`` against
    ``frameK.gt_sem_seg`` for K in ``frames``, skipping frames whose ground
    truth is entirely ``ignore_index`` (unlabelled frames carry an all-255
    map, see ``docs/design.md``). Intersections / unions come from
    ``IoUMetric.intersect_and_union`` and the summary from
    ``IoUMetric.compute_metrics``, so the keys (``aAcc``, ``mIoU``, ``mAcc``,
    ...), the per-class table and the rounding are mmseg's. One
    ``tools/test.py`` run on a pair test set can therefore report mIoU next
    to ``EFCFlowMetric`` and ``TemporalConsistencyMetric``.

    A plain (non-pair) ``SegDataSample`` is accepted too and evaluated as a
    single frame; the single-frame val/test path should simply keep using
    mmseg's ``IoUMetric``.

    Args:
        frames (sequence of str): which frames of a pair to score. Defaults
            to ``('frame1', 'frame2')``.
        dedupe (bool): count each labelled frame once, keyed by its
            ``img_path`` (first occurrence wins), even when several test
            pairs share it, so that the mIoU equals the per-frame mIoU of
            the labelled set. Frames without ``img_path`` are never merged.
            Defaults to True.
        **kwargs: ``ignore_index``, ``iou_metrics``, ``nan_to_num``,
            ``beta``, ``collect_device``, ``prefix``: as in mmseg's
            ``IoUMetric`` (the same defaults). ``output_dir`` /
        ``format_only`` are not supported (use ``IoUMetric`` on the
        single-frame test set for submissions).

    Example config::

        test_evaluator = [dict(type='PairIoUMetric'),
                          dict(type='EFCFlowMetric'),
                          dict(type='TemporalConsistencyMetric')]
    """

    def __init__(self,
                 frames: Sequence[str] = ('frame1', 'frame2'),
                 dedupe: bool = True,
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 **kwargs) -> None:
        if output_dir is not None or format_only:
            raise ValueError('PairIoUMetric does not write predictions '
                             '(output_dir / format_only); use mmseg IoUMetric '
                             'on the single-frame test set for that')
        super().__init__(**kwargs)
        frames = tuple(frames)
        bad = [f for f in frames if f not in ('frame1', 'frame2')]
        if not frames or bad:
            raise ValueError("PairIoUMetric: frames must be a non-empty "
                             f"subset of ('frame1', 'frame2'), got {frames}")
        self.frames = frames
        self.dedupe = dedupe

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store, per sample, a list of ``(key, intersect_and_union(...))``
        for its labelled frames (possibly empty)."""
        name = type(self).__name__
        if not self.dataset_meta or 'classes' not in self.dataset_meta:
            raise ValueError(f"{name}: needs dataset_meta['classes'] (run it "
                             'through the Evaluator of a runner, or set '
                             'metric.dataset_meta)')
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            d = as_dict(sample)
            if 'frame1' in d or 'frame2' in d:
                frames = []
                for f in self.frames:
                    if f not in d:
                        raise KeyError(f"{name} needs '{f}' in each pair data "
                                       f'sample; got keys {sorted(d.keys())}')
                    frames.append((f, as_dict(d[f])))
            else:
                frames = [('frame', d)]
            # one entry per sample: mmengine truncates the gathered results
            # to the dataset size
            entry = []
            for fname, fd in frames:
                gt = need(fd, 'gt_sem_seg', f'{name} ({fname})')
                gt = gt.squeeze()
                if bool((gt == self.ignore_index).all()):
                    continue  # unlabelled frame
                pred = need(fd, 'pred_sem_seg', f'{name} ({fname})',
                            '; is the model in (pair) predict mode?')
                check_shape(pred, gt, f'{fname}.pred_sem_seg',
                            f'{fname}.gt_sem_seg', name)
                pred = pred.squeeze()
                path = fd.get('img_path', None)
                key = path if (self.dedupe and path is not None) else None
                entry.append(
                    (key,
                     self.intersect_and_union(pred, gt.to(pred), num_classes,
                                              self.ignore_index)))
            self.results.append(entry)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """mmseg's IoUMetric summary over the (deduplicated) frames."""
        seen = set()
        areas = []
        results = [item for entry in results for item in entry]
        for key, area in results:
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            areas.append(area)
        if not areas:
            print_log(
                'PairIoUMetric: no labelled frame (every gt_sem_seg is all '
                f'{self.ignore_index}); no mIoU reported',
                logger='current',
                level=logging.WARNING)
            return {}
        print_log(
            f'PairIoUMetric: {len(areas)} labelled frames '
            f'({len(results) - len(areas)} duplicates skipped)',
            logger='current')
        return super().compute_metrics(areas)
