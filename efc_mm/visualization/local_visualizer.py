"""mmengine visualizer that draws pair samples (frames, segmentation, flow,
occlusion) and falls back to mmseg's drawing for single frames."""
from typing import Dict, Optional

import mmcv
import numpy as np
from mmengine.dist import master_only
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from ..registry import VISUALIZERS
from ..structures import PairDataSample
from .panel import make_pair_panel

__all__ = ['PairLocalVisualizer', 'pair_sample_to_maps']


def _np(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _field(element, name: str):
    """``element.<name>.data`` as numpy, or None when absent."""
    if element is None or name not in element:
        return None
    value = element.get(name)
    return _np(getattr(value, 'data', value))


def pair_sample_to_maps(sample: PairDataSample) -> Dict[str, Dict]:
    """The maps of a pair sample as two dicts of numpy arrays, ``pred`` and
    ``gt``, with the keys of :func:`~.panel.make_pair_panel` (``seg1``,
    ``seg2`` ``(H, W)``; ``flow_fw``, ``flow_bw`` ``(H, W, 2)``;
    ``occ_fw``, ``occ_bw`` ``(H, W)``). Missing fields are left out; an
    unlabelled frame's all-255 ground truth counts as missing."""
    pred: Dict[str, np.ndarray] = {}
    gt: Dict[str, np.ndarray] = {}
    for k, frame in (('1', 'frame1'), ('2', 'frame2')):
        seg_sample = getattr(sample, '_' + frame, None)
        p = _field(seg_sample, 'pred_sem_seg')
        if p is not None:
            pred['seg' + k] = p.reshape(p.shape[-2:])
        g = _field(seg_sample, 'gt_sem_seg')
        if g is not None and not (g == 255).all():
            gt['seg' + k] = g.reshape(g.shape[-2:])
    for d in ('fw', 'bw'):
        for src, prefix in ((pred, 'pred'), (gt, 'gt')):
            f = _field(sample, f'{prefix}_flow_{d}')
            if f is not None:
                src[f'flow_{d}'] = f.transpose(1, 2, 0)
            o = _field(sample, f'{prefix}_occ_{d}')
            if o is not None:
                src[f'occ_{d}'] = o.reshape(o.shape[-2:])
    return dict(pred=pred, gt=gt)


@VISUALIZERS.register_module()
class PairLocalVisualizer(SegLocalVisualizer):
    """mmseg's :class:`~mmseg.visualization.SegLocalVisualizer` that also
    draws :class:`~efc_mm.structures.PairDataSample` s.

    For a pair, :meth:`add_datasample` draws the panel of
    :func:`~efc_mm.visualization.make_pair_panel`: one row per frame (frame
    | segmentation | flow | occlusion, with the flow colour-wheel key and
    the occlusion scale) and, with ``draw_gt``, a ground-truth row under
    each (where the sample has ground truth), plus a class legend when the
    classes fit. A :class:`~mmseg.structures.SegDataSample` is drawn
    exactly as mmseg does. Like every mmengine visualizer, the panel goes
    to the ``vis_backends`` (or to ``out_file``) and images are RGB.

    Args:
        alpha (float): opacity of mmseg's single-frame overlay (mmseg's
            default 0.8).
        pair_alpha (float): opacity of the segmentation overlay of pair
            panels (0.5: the frame stays visible beside flow/occlusion).
        max_flow (float, optional): flow magnitude (px) of full colour;
            None = the largest vector of each panel (stated by its key).
        legend (bool): draw the class legend when the classes fit.
        name, image, vis_backends, save_dir, classes, palette,
        dataset_name: as in mmseg's ``SegLocalVisualizer``.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[Dict] = None,
                 save_dir: Optional[str] = None,
                 classes: Optional[list] = None,
                 palette: Optional[list] = None,
                 dataset_name: Optional[str] = None,
                 alpha: float = 0.8,
                 pair_alpha: float = 0.5,
                 max_flow: Optional[float] = None,
                 legend: bool = True,
                 **kwargs) -> None:
        super().__init__(name=name, image=image, vis_backends=vis_backends,
                         save_dir=save_dir, classes=classes, palette=palette,
                         dataset_name=dataset_name, alpha=alpha, **kwargs)
        if max_flow is not None and not max_flow > 0:
            raise ValueError(f'PairLocalVisualizer: max_flow must be > 0 '
                             f'or None, got {max_flow}')
        if not 0.0 <= pair_alpha <= 1.0:
            raise ValueError(f'PairLocalVisualizer: pair_alpha must be in '
                             f'[0, 1], got {pair_alpha}')
        self.pair_alpha = pair_alpha
        self.max_flow = max_flow
        self.legend = legend

    @staticmethod
    def _pair_images(image, sample: PairDataSample):
        """Two RGB frames from ``image``: a sequence of two images, a
        ``(2, H, W, 3)`` array, or frame i alone (frame i+t is then read
        from ``sample.frame2.img_path``)."""
        if isinstance(image, (list, tuple)) or (
                isinstance(image, np.ndarray) and image.ndim == 4):
            if len(image) != 2:
                raise ValueError('PairLocalVisualizer.add_datasample: a pair '
                                 f'needs 2 images, got {len(image)}')
            return [np.asarray(i) for i in image]
        frame2 = getattr(sample, '_frame2', None)
        path = None if frame2 is None else frame2.metainfo.get('img_path')
        if path is None:
            raise ValueError(
                'PairLocalVisualizer.add_datasample got one image for a '
                'PairDataSample whose frame2 has no img_path; pass both '
                'frames, e.g. image=[rgb1, rgb2]')
        return [np.asarray(image), mmcv.imread(path, channel_order='rgb')]

    def draw_pair(self, image, data_sample: PairDataSample,
                  draw_gt: bool = True, draw_pred: bool = True,
                  max_flow: Optional[float] = None) -> np.ndarray:
        """The RGB panel of a pair sample (see the class docstring)."""
        img1, img2 = self._pair_images(image, data_sample)
        maps = pair_sample_to_maps(data_sample)
        pred = maps['pred'] if draw_pred else {}
        gt = maps['gt'] if draw_gt else {}
        if not pred and not gt:
            raise ValueError(
                'PairLocalVisualizer: the pair sample has nothing to draw '
                f'(draw_pred={draw_pred}, draw_gt={draw_gt}; prediction '
                f'fields {sorted(maps["pred"])}, ground truth '
                f'{sorted(maps["gt"])})')
        if not pred:  # ground truth only: draw it as the main rows
            pred, gt = gt, {}
        meta = self.dataset_meta or {}
        panel = make_pair_panel(
            np.ascontiguousarray(img1[..., ::-1]),
            np.ascontiguousarray(img2[..., ::-1]), pred,
            dataset_meta=meta,
            max_flow=max_flow if max_flow is not None else self.max_flow,
            alpha=self.pair_alpha, gt=gt, legend=self.legend)
        return np.ascontiguousarray(panel[..., ::-1])

    @master_only
    def add_datasample(self,
                       name: str,
                       image,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True,
                       max_flow: Optional[float] = None) -> None:
        """Draw ``data_sample`` and send it to the backends (or
        ``out_file``).

        A :class:`PairDataSample` gets the pair panel (``image``: the two
        RGB frames, or frame i with frame i+t read from its ``img_path``;
        ``max_flow`` overrides the visualizer's for this panel); anything
        else is drawn by mmseg's ``SegLocalVisualizer.add_datasample``.
        """
        if not isinstance(data_sample, PairDataSample):
            if data_sample is not None and not isinstance(
                    data_sample, SegDataSample):
                raise TypeError(
                    'PairLocalVisualizer draws PairDataSample or '
                    f'SegDataSample, got {type(data_sample).__name__}')
            return super().add_datasample(
                name, image, data_sample, draw_gt=draw_gt,
                draw_pred=draw_pred, show=show, wait_time=wait_time,
                out_file=out_file, step=step, with_labels=with_labels)
        panel = self.draw_pair(image, data_sample, draw_gt, draw_pred,
                               max_flow)
        self.set_image(panel)
        if show:
            self.show(panel, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(panel), out_file)
        else:
            self.add_image(name, panel, step)

