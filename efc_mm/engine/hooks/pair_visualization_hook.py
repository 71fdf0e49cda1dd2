"""Draw flow / occlusion / segmentation panels of fixed pairs in training,
through the runner's visualizer (``PairLocalVisualizer``)."""
import copy
import os
import os.path as osp
from typing import List, Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from ...registry import HOOKS
from ...structures import PairDataSample

__all__ = ['PairVisualizationHook']


def _to_rgb(frame: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` uint8 BGR tensor (PackPairInputs) -> ``(H, W, 3)``
    RGB (mmengine visualizers take RGB)."""
    arr = frame.detach().cpu().numpy().transpose(1, 2, 0)[..., ::-1]
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


@HOOKS.register_module()
class PairVisualizationHook(Hook):
    """Run the model in pair (flow) mode on a few fixed pairs and draw them
    with ``runner.visualizer.add_datasample`` (a
    :class:`~efc_mm.visualization.PairLocalVisualizer`: frame | seg | flow
    | occlusion with the flow key and occlusion scale, one row per frame of
    the pair, ground-truth rows with ``draw_gt``), written to
    ``{out_dir}/iter_{n}/pair_{k:02d}.png`` or, with ``to_backends``, to
    the visualizer's backends (``pair_{k:02d}`` at step n: LocalVisBackend,
    TensorBoard, ...).

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
        draw_gt (bool): add ground-truth rows where the pairs have ground
            truth.
        to_backends (bool): send the panels to the visualizer's backends
            instead of PNG files under ``out_dir``.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 0, after_val: bool = True,
                 num_pairs: int = 4, dataset=None,
                 out_dir: Optional[str] = None,
                 max_flow: Optional[float] = None,
                 max_batches: int = 8,
                 draw_gt: bool = False,
                 to_backends: bool = False) -> None:
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
        self.draw_gt = draw_gt
        self.to_backends = to_backends
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

    def _predict(self, model, item: dict) -> PairDataSample:
        """The model's pair prediction of ``item``, at the network input
        size (``img_shape``), so that it matches the stored frames."""
        sample = copy.deepcopy(item['data_samples'])
        for frame in sample.frames:  # draw at the network input size
            shape = frame.metainfo.get('img_shape', item['inputs'].shape[-2:])
            frame.set_metainfo(dict(ori_shape=tuple(shape[:2])))
        data = dict(inputs=[item['inputs']], data_samples=[sample])
        with torch.no_grad():
            return model.test_step(data)[0]

    @staticmethod
    def _check_visualizer(visualizer) -> Optional[str]:
        """Why ``visualizer`` cannot draw pairs (None when it can)."""
        from ...visualization import PairLocalVisualizer
        if isinstance(visualizer, PairLocalVisualizer):
            return None
        return (f'the runner\'s visualizer is '
                f'{type(visualizer).__name__}, which cannot draw pairs; set '
                "visualizer = dict(type='PairLocalVisualizer', ...) in the "
                'config (configs/_base_/default_runtime.py does)')

    def visualize(self, runner, iteration: Optional[int] = None) -> List[str]:
        """Draw the panels of ``iteration`` (default ``runner.iter``, the
        number of finished training iterations); returns the paths of the
        PNGs (empty with ``to_backends``, and when the model has no flow
        branch, no pair is found or the visualizer cannot draw pairs:
        logged once as a warning naming the reason)."""
        iteration = runner.iter if iteration is None else iteration
        if self._last_iter == iteration or self._disabled_reason:
            return []
        model = getattr(runner.model, 'module', runner.model)
        visualizer = getattr(runner, 'visualizer', None)
        reason = self._check_visualizer(visualizer)
        if reason:
            self._disable(runner, reason)
            return []
        if not getattr(model, 'with_flow', False):
            self._disable(runner, f'{type(model).__name__} has no flow '
                          'branch (flow_decoder)')
            return []
        pairs = self.get_pairs(runner)
        if not pairs:
            self._disable(runner, self._disabled_reason)
            return []
        folder = osp.join(self._out_root(runner), f'iter_{iteration}')
        if not self.to_backends:
            os.makedirs(folder, exist_ok=True)
        meta = getattr(model, 'dataset_meta', None) or self._dataset_meta
        if meta and meta.get('classes') and meta.get('palette'):
            visualizer.dataset_meta = dict(classes=meta['classes'],
                                           palette=meta['palette'])
        was_training = model.training
        model.eval()
        paths = []
        try:
            for k, item in enumerate(pairs):
                out = self._predict(model, item)
                path = osp.join(folder, f'pair_{k:02d}.png')
                visualizer.add_datasample(
                    f'pair_{k:02d}',
                    [_to_rgb(item['inputs'][0]), _to_rgb(item['inputs'][1])],
                    data_sample=out, draw_gt=self.draw_gt, step=iteration,
                    out_file=None if self.to_backends else path,
                    max_flow=self.max_flow)
                if not self.to_backends:
                    if not osp.isfile(path):
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
