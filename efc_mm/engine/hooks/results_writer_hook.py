"""Write test predictions to files (``tools/test.py --out`` for pair sets
and evaluator lists)."""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.hooks import Hook
from PIL import Image

from ...registry import HOOKS
from ...structures import PairDataSample

__all__ = ['PredictionWriterHook']


def _np(x) -> np.ndarray:
    data = getattr(x, 'data', x)
    if hasattr(data, 'detach'):
        data = data.detach().cpu().numpy()
    return np.asarray(data)


def _stem(sample, index: int) -> str:
    path = sample.metainfo.get('img_path') if hasattr(sample,
                                                      'metainfo') else None
    if not path:
        return f'{index:06d}'
    return osp.splitext(osp.basename(path))[0]


@HOOKS.register_module()
class PredictionWriterHook(Hook):
    """Write every test prediction under ``out_dir``, as mmseg's
    ``IoUMetric(output_dir=...)`` does for single frames.

    * segmentation, per frame: ``{out_dir}/{img stem}.png``, the label ids
      as 8-bit PNG (``+1`` when the sample has ``reduce_zero_label``);
      a frame that appears in several pairs is written once per pair with
      the prediction of that pair (the same file name);
    * flow of a pair (:class:`~efc_mm.structures.PairDataSample`):
      ``{out_dir}/flow_fw/{frame i stem}.flo`` and
      ``flow_bw/{frame i+t stem}.flo`` (Middlebury ``.flo``, pixels);
    * occlusion: ``occ_fw/{frame i stem}.png`` and ``occ_bw/...``,
      ``round(255 * p)`` 8-bit grey.

    Predictions are at the original image size (mmseg's ``predict``).

    Args:
        out_dir (str): output folder (created).
    """

    priority = 'LOW'

    def __init__(self, out_dir: str) -> None:
        if not out_dir:
            raise ValueError('PredictionWriterHook needs an out_dir')
        self.out_dir = out_dir
        self.count = 0

    def _seg(self, sample, index: int) -> Optional[str]:
        if 'pred_sem_seg' not in sample:
            return None
        mask = _np(sample.pred_sem_seg).squeeze()
        if sample.metainfo.get('reduce_zero_label', False):
            mask = mask + 1
        path = osp.join(self.out_dir, _stem(sample, index) + '.png')
        Image.fromarray(mask.astype(np.uint8)).save(path)
        return path

    def _pair(self, sample: PairDataSample, index: int) -> None:
        for frame in sample.frames:
            self._seg(frame, index)
        stems = {'fw': _stem(sample.frame1, index),
                 'bw': _stem(sample.frame2, index)}
        for d, stem in stems.items():
            if f'pred_flow_{d}' in sample:
                folder = osp.join(self.out_dir, f'flow_{d}')
                os.makedirs(folder, exist_ok=True)
                flow = _np(sample.get(f'pred_flow_{d}')).transpose(1, 2, 0)
                mmcv.flowwrite(flow.astype(np.float32),
                               osp.join(folder, stem + '.flo'))
            if f'pred_occ_{d}' in sample:
                folder = osp.join(self.out_dir, f'occ_{d}')
                os.makedirs(folder, exist_ok=True)
                occ = _np(sample.get(f'pred_occ_{d}')).squeeze()
                grey = np.round(255 * np.clip(occ, 0, 1)).astype(np.uint8)
                Image.fromarray(grey).save(osp.join(folder, stem + '.png'))

    def before_test(self, runner) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        self.count = 0

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        for k, sample in enumerate(outputs or []):
            index = self.count
            self.count += 1
            if isinstance(sample, PairDataSample):
                self._pair(sample, index)
            else:
                self._seg(sample, index)

    def after_test(self, runner) -> None:
        logger = getattr(runner, 'logger', None)
        if logger is not None:
            logger.info(f'PredictionWriterHook: {self.count} test outputs '
                        f'written to {self.out_dir}')
