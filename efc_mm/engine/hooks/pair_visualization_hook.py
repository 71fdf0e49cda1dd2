"""Save flow / occlusion / segmentation panels of fixed pairs in training."""
import copy
import os
import os.path as osp
from typing import List, Optional

import cv2
import numpy as np
import torch
from mmengine.hooks import Hook

from ...registry import HOOKS
from ...structures import PairDataSample

__all__ = ['PairVisualizationHook']


def _to_bgr(frame: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` uint8 BGR tensor (PackPairInputs) -> ``(H, W, 3)``."""
    arr = frame.detach().cpu().numpy().transpose(1, 2, 0)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


@HOOKS.register_module()
class PairVisualizationHook(Hook):
    """Run the model in pair (flow) mode on a few fixed pairs and save
    :func:`~efc_mm.visualization.make_pair_panel` PNGs to
    ``{out_dir}/iter_{n}/pair_{k:02d}.png`` (frame | seg | flow | occlusion,
    one row per frame of the pair).

    Pairs come from ``dataset`` (a pair dataset config or object; its
    first ``num_pairs`` items) or, when it is None, from the first batches
    of the validation dataloader if it yields pairs. They are drawn once
    and reused, so successive panels show the same pairs. Panels are drawn
    at the network input size (``img_shape``, after the pipeline's resize).

    Args:
        interval (int): also visualise every ``interval`` training
            iterations (0 = only after validation).
        after_val (bool): visualise after each validation.
        num_pairs (int): number of pairs.
        dataset (dict | Dataset, optional): pair dataset.
        out_dir (str, optional): root folder; default
            ``{work_dir}/vis_pairs`` (a relative path is joined to
            ``work_dir``).
        max_flow (float, optional): flow colour scale, see
            :func:`~efc_mm.visualization.flow_to_color`.
        max_batches (int): at most this many val batches are scanned.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 0, after_val: bool = True,
                 num_pairs: int = 4, dataset=None,
                 out_dir: Optional[str] = None,
                 max_flow: Optional[float] = None,
                 max_batches: int = 8) -> None:
        if interval < 0 or num_pairs < 1:
            raise ValueError('PairVisualizationHook needs interval >= 0 and '
                             f'num_pairs >= 1, got {interval}, {num_pairs}')
        self.interval = interval
        self.draw_after_val = after_val
        self.num_pairs = num_pairs
        self.dataset = dataset
        self.out_dir = out_dir
        self.max_flow = max_flow
        self.max_batches = max_batches
        self._pairs: Optional[List[dict]] = None
        self._dataset_meta = None
        self._last_iter = None
        self._disabled_reason: Optional[str] = None

    # ------------------------------------------------------------------
    # triggers
    # ------------------------------------------------------------------
    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        # runner.iter is incremented after this hook: iteration n = iter + 1
        if self.interval and self.every_n_train_iters(runner, self.interval):
            self.visualize(runner, runner.iter + 1)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self.draw_after_val:
            self.visualize(runner)

    # ------------------------------------------------------------------
    # pairs
    # ------------------------------------------------------------------
    @staticmethod
    def _is_pair(inputs, sample) -> bool:
        return (isinstance(sample, PairDataSample) and torch.is_tensor(inputs)
                and inputs.dim() == 4 and inputs.shape[0] == 2)

    def _pairs_from_dataset(self) -> List[dict]:
        dataset = self.dataset
        if isinstance(dataset, dict):
            from mmseg.registry import DATASETS
            dataset = DATASETS.build(copy.deepcopy(dataset))
        self._dataset_meta = getattr(dataset, 'metainfo', None)
        pairs = []
        for i in range(min(self.num_pairs, len(dataset))):
            item = dataset[i]
            if not self._is_pair(item['inputs'], item['data_samples']):
                raise TypeError(
                    f'PairVisualizationHook.dataset item {i} is not a pair '
                    '(expected inputs (2, 3, H, W) and a PairDataSample, '
                    f'got {tuple(item["inputs"].shape)}); use a pair '
                    'dataset with PackPairInputs')
            pairs.append(item)
        return pairs

    def _pairs_from_val(self, runner) -> List[dict]:
        try:
            loader = runner.val_dataloader
        except Exception:  # noqa: BLE001 - no validation configured
            loader = None
        if loader is None:
            return []
        dataset = getattr(loader, 'dataset', None)
        self._dataset_meta = getattr(dataset, 'metainfo', None)
        pairs = []
        for b, batch in enumerate(loader):
            if b >= self.max_batches or len(pairs) >= self.num_pairs:
                break
            samples = batch.get('data_samples') or []
            for inputs, sample in zip(batch['inputs'], samples):
                if self._is_pair(inputs, sample) and \
                        len(pairs) < self.num_pairs:
                    pairs.append(dict(inputs=inputs, data_samples=sample))
        return pairs

    def get_pairs(self, runner) -> List[dict]:
        """The fixed pairs (drawn on first use)."""
        if self._pairs is None:
            self._pairs = (self._pairs_from_dataset() if self.dataset
                           is not None else self._pairs_from_val(runner))
            if not self._pairs:
                self._disabled_reason = (
                    'the val dataloader yields no pairs (single frames?); '
                    'give PairVisualizationHook(dataset=<pair dataset>)')
        return self._pairs

    # ------------------------------------------------------------------
    # drawing
    # ------------------------------------------------------------------
    def _out_root(self, runner) -> str:
        if self.out_dir is None:
            return osp.join(runner.work_dir, 'vis_pairs')
        return self.out_dir if osp.isabs(self.out_dir) else osp.join(
            runner.work_dir, self.out_dir)

    def _panel(self, model, item: dict) -> np.ndarray:
        from ...apis.inference import pair_sample_to_numpy
        from ...visualization import make_pair_panel
        sample = copy.deepcopy(item['data_samples'])
        for frame in sample.frames:  # draw at the network input size
            shape = frame.metainfo.get('img_shape', item['inputs'].shape[-2:])
            frame.set_metainfo(dict(ori_shape=tuple(shape[:2])))
        data = dict(inputs=[item['inputs']], data_samples=[sample])
        with torch.no_grad():
            out = model.test_step(data)[0]
        result = pair_sample_to_numpy(out)
        meta = getattr(model, 'dataset_meta', None) or self._dataset_meta
        return make_pair_panel(_to_bgr(item['inputs'][0]),
                               _to_bgr(item['inputs'][1]), result,
                               dataset_meta=meta, max_flow=self.max_flow)

    def visualize(self, runner, iteration: Optional[int] = None) -> List[str]:
        """Write the panels of ``iteration`` (default ``runner.iter``, the
        number of finished training iterations); returns their paths
        (empty when the model has no flow branch or no pair is found,
        which is logged once)."""
        iteration = runner.iter if iteration is None else iteration
        if self._last_iter == iteration or self._disabled_reason:
            return []
        model = getattr(runner.model, 'module', runner.model)
        if not getattr(model, 'with_flow', False):
            self._disable(runner, f'{type(model).__name__} has no flow '
                          'branch (flow_decoder)')
            return []
        pairs = self.get_pairs(runner)
        if not pairs:
            self._disable(runner, self._disabled_reason)
            return []
        folder = osp.join(self._out_root(runner), f'iter_{iteration}')
        os.makedirs(folder, exist_ok=True)
        was_training = model.training
        model.eval()
        paths = []
        try:
            for k, item in enumerate(pairs):
                path = osp.join(folder, f'pair_{k:02d}.png')
                if not cv2.imwrite(path, self._panel(model, item)):
                    raise OSError(f'could not write {path}')
                paths.append(path)
        finally:
            model.train(was_training)
        self._last_iter = iteration
        return paths

    def _disable(self, runner, reason: str) -> None:
        self._disabled_reason = reason
        logger = getattr(runner, 'logger', None)
        if logger is not None:
            logger.warning(f'PairVisualizationHook disabled: {reason}')
