"""mmseg's val / test visualisation hook, extended to pair outputs."""
import os.path as osp
from typing import Sequence

import mmcv
import mmengine.fileio as fileio
from mmseg.engine.hooks import SegVisualizationHook

from ...registry import HOOKS
from ...structures import PairDataSample

__all__ = ['PairSegVisualizationHook']


@HOOKS.register_module()
class PairSegVisualizationHook(SegVisualizationHook):
    """mmseg's :class:`~mmseg.engine.hooks.SegVisualizationHook` that also
    draws :class:`~efc_mm.structures.PairDataSample` outputs (pair val /
    test sets): both frames are read from ``frame1`` / ``frame2``
    ``img_path`` and drawn by the runner's
    :class:`~efc_mm.visualization.PairLocalVisualizer` (frames,
    segmentation, flow with its colour key, occlusion with its scale, and
    ground-truth rows where the test set has ground truth). Single-frame
    outputs are drawn exactly as mmseg does. ``tools/test.py --show-dir``
    turns ``draw`` on.

    Every ``interval``-th test / val iteration is drawn (mmseg's default
    50; the efc_mm configs use 1 for the small pair sets).

    Raises:
        TypeError: a pair output reaches a visualizer that cannot draw it
            (the message names it and the config line that fixes it).
        ValueError: a pair output without ``img_path`` on its frames.
    """

    def _after_iter(self, runner, batch_idx: int, data_batch: dict,
                    outputs: Sequence, mode: str = 'val') -> None:
        if self.draw is False or mode == 'train':
            return
        if not any(isinstance(o, PairDataSample) for o in outputs):
            return super()._after_iter(runner, batch_idx, data_batch,
                                       outputs, mode)
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        from ...visualization import PairLocalVisualizer
        if not isinstance(self._visualizer, PairLocalVisualizer):
            raise TypeError(
                f'{type(self).__name__}: the test set yields pairs but the '
                f'visualizer is {type(self._visualizer).__name__}, which '
                "cannot draw them; set visualizer = dict(type="
                "'PairLocalVisualizer', vis_backends=[dict(type="
                "'LocalVisBackend')]) in the config")
        for output in outputs:
            if not isinstance(output, PairDataSample):
                raise TypeError(f'{type(self).__name__}: a batch mixes '
                                'pairs and single frames')
            images = []
            for frame in output.frames:
                path = frame.metainfo.get('img_path')
                if path is None:
                    raise ValueError(
                        f'{type(self).__name__}: a pair output has no '
                        'frame img_path to read the frames from (a pair '
                        'dataset with LoadPairFromFile sets it)')
                img_bytes = fileio.get(path, backend_args=self.backend_args)
                images.append(mmcv.imfrombytes(img_bytes,
                                               channel_order='rgb'))
            name = f'{mode}_{osp.basename(output.frame1.img_path)}'
            self._visualizer.add_datasample(
                name, images, data_sample=output, show=self.show,
                wait_time=self.wait_time, step=runner.iter)
