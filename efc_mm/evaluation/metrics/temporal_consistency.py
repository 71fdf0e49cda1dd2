"""Temporal consistency (TC) of video segmentation predictions (ETC).

Two definitions are available (``TemporalConsistencyMetric(mode=...)``):

* ``'ours'`` (default): nearest-neighbour label warping, out-of-frame and
  occluded pixels left out, mean IoU over the classes that occur.
* ``'etc'``: exactly the reference script of ETC (Liu et al., ECCV 2020,
  ``tool/eval_tc.py`` of their repository), see :func:`warp_labels_etc` and
  :func:`etc_intersect_union`. On fractional flows the two differ by about a
  point, so only ``TC_etc`` numbers are comparable to published ones.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from efc_mm.registry import METRICS
from ..functional import (iou_from_intersect_union, tc_intersect_union,
                          warp_labels_nearest)
from ._access import as_dict, check_shape, frame, get_data, need

_FLOW_SOURCES = ('auto', 'gt', 'pred', 'dis')
#: OpenCV's DIS presets by name
_DIS_PRESETS = ('ultrafast', 'fast', 'medium')
_OCC_SOURCES = ('auto', 'gt', 'pred', 'none')
_MODES = ('ours', 'etc')
#: the epsilon of the ETC script's ``intersection / (union + 1e-10)``
ETC_EPS = 1e-10


def warp_labels_etc(labels: torch.Tensor,
                    flow: torch.Tensor) -> torch.Tensor:
    """Warp a label map as ETC's evaluation script does.

    The script warps ``pred_{t+1}`` (as float) into frame t with FlowNet2's
    ``Resample2d`` (kernel size 1) and casts the result with
    ``.astype(np.uint8)``. ``Resample2d`` computes, per pixel ``(x, y)``, in
    float32::

        xf = x + u(x, y);  alpha = xf - floor(xf)   (same for y / beta)
        xL = clamp(floor(xf), 0, W-1);  xR = clamp(floor(xf) + 1, 0, W-1)
        val = (1-alpha)(1-beta) L[yT, xL] + alpha(1-beta) L[yT, xR]
              + (1-alpha) beta L[yB, xL] + alpha beta L[yB, xR]

    i.e. bilinear interpolation *of the label ids* with the sample
    positions clamped to the border (out-of-frame samples take the border
    labels, they are not left out); the weights are double (``1.`` is a
    double literal in the kernel) and ``val`` is accumulated in float32.
    The cast truncates, so between labels 2 and 5 a pixel may get 3 or 4.

    Args:
        labels (Tensor): ``(H, W)`` (or ``(1, H, W)``) labels of frame t+1.
        flow (Tensor): ``(2, H, W)`` flow t -> t+1 in pixels.

    Returns:
        Tensor: ``(H, W)`` int64 warped labels (values in [0, 255]).
    """
    lab = labels.reshape(labels.shape[-2:]).float()
    if flow.dim() != 3 or flow.shape[0] != 2 or \
            tuple(flow.shape[1:]) != tuple(lab.shape):
        raise ValueError(f'warp_labels_etc: flow must be (2, H, W) with '
                         f'(H, W) = {tuple(lab.shape)}, got '
                         f'{tuple(flow.shape)}')
    h, w = lab.shape
    f = flow.to(lab.device).float()
    ys, xs = torch.meshgrid(
        torch.arange(h, device=lab.device, dtype=torch.float32),
        torch.arange(w, device=lab.device, dtype=torch.float32),
        indexing='ij')
    xf, yf = xs + f[0], ys + f[1]  # float32, as in the kernel
    x0, y0 = torch.floor(xf), torch.floor(yf)
    alpha = (xf - x0).double()
    beta = (yf - y0).double()
    xl = x0.clamp(0, w - 1).long()
    xr = (x0 + 1).clamp(0, w - 1).long()
    yt = y0.clamp(0, h - 1).long()
    yb = (y0 + 1).clamp(0, h - 1).long()
    val = torch.zeros_like(xf)
    for wt, yy, xx in (((1 - alpha) * (1 - beta), yt, xl),
                       (alpha * (1 - beta), yt, xr),
                       ((1 - alpha) * beta, yb, xl),
                       (alpha * beta, yb, xr)):
        val = (val.double() + wt * lab[yy, xx].double()).float()
    # numpy's float -> uint8 cast of values in [0, 255]: truncation
    return torch.trunc(val).clamp(0, 255).long()


def dis_flow(img1: np.ndarray, img2: np.ndarray,
             preset: str = 'medium') -> np.ndarray:
    """Optical flow ``img1 -> img2`` by OpenCV's DIS (Kroeger et al., "Fast
    Optical Flow using Dense Inverse Search", ECCV 2016), a model-free flow
    that measures every segmentor's temporal consistency with the same
    vectors.

    Args:
        img1, img2 (ndarray): ``(H, W)`` uint8 grey or ``(H, W, 3)`` BGR
            images of one size.
        preset (str): ``'ultrafast'``, ``'fast'`` or ``'medium'``
            (``cv2.DISOPTICAL_FLOW_PRESET_*``). Defaults to ``'medium'``.

    Returns:
        ndarray: ``(H, W, 2)`` float32 flow in pixels, ``(u, v)`` such that
        ``img1(p) ~ img2(p + flow(p))``.
    """
    import cv2
    if preset not in _DIS_PRESETS:
        raise ValueError(f'dis_flow: preset must be one of {_DIS_PRESETS}, '
                         f'got {preset!r}')
    grey = []
    for img in (img1, img2):
        img = np.asarray(img)
        if img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if img.dtype != np.uint8:
            raise ValueError('dis_flow: images must be uint8, got '
                             f'{img.dtype}')
        grey.append(np.ascontiguousarray(img))
    if grey[0].shape != grey[1].shape:
        raise ValueError(f'dis_flow: images differ in size: '
                         f'{grey[0].shape} vs {grey[1].shape}')
    dis = cv2.DISOpticalFlow_create(
        getattr(cv2, f'DISOPTICAL_FLOW_PRESET_{preset.upper()}'))
    return dis.calc(grey[0], grey[1], None).astype(np.float32)


def _etc_histogram(values: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``np.histogram(values, bins=np.arange(K + 1))[0]`` for integers: bin
    ``c`` counts value ``c``, and numpy's last bin is closed, so value ``K``
    is counted in class ``K - 1``; values outside ``[0, K]`` are dropped."""
    v = values[(values >= 0) & (values <= num_classes)]
    v = torch.where(v == num_classes, v.new_tensor(num_classes - 1), v)
    return torch.bincount(v, minlength=num_classes)[:num_classes].double()


def etc_intersect_union(pred: torch.Tensor, warped: torch.Tensor,
                        num_classes: int, ignore_index: int = 255
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-class intersection and union as ETC's script computes them
    (``intersectionAndUnion(pred_t, warped, K)`` of semseg's util): pixels
    where ``warped == ignore_index`` are set to ``ignore_index`` in
    ``pred_t`` too; areas are numpy histograms with ``bins=arange(K + 1)``
    (see :func:`_etc_histogram`). No other pixel is left out.

    Returns:
        tuple: ``intersect``, ``union``, each ``(num_classes,)`` float64.
    """
    a = pred.reshape(-1).long().to(warped.device)
    b = warped.reshape(-1).long()
    a = torch.where(b == ignore_index, b.new_tensor(ignore_index), a)
    inter = _etc_histogram(a[a == b], num_classes)
    area_a = _etc_histogram(a, num_classes)
    area_b = _etc_histogram(b, num_classes)
    return inter, area_a + area_b - inter


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
    * ``flow_source='dis'``: OpenCV's DIS flow (:func:`dis_flow`, preset
      ``dis_preset``) computed here between the two frames, read from
      ``frame1.img_path`` / ``frame2.img_path`` and resized to the
      predictions' size when they differ. It depends on no model, so a
      seg-only baseline and EFC are measured with the same flow where no
      ground truth exists (CamVid). Result key ``TC(flow=DIS)``.
    * ``flow_source='auto'`` (default): ``gt_flow_fw`` where a sample has
      it, else ``pred_flow_fw``; the two are accumulated *separately* and
      each reported under its own key, so numbers never mix flows.

    ``mode='etc'`` reproduces ETC's reference script
    (``tool/eval_tc.py`` of irfanICMLL/ETC-Real-time-Per-frame-Semantic-
    video-segmentation) instead, which differs from the above in four ways:
    label ids are sampled bilinearly and truncated
    (:func:`warp_labels_etc`), out-of-frame samples are clamped to the
    border instead of left out, no occlusion (and no flow-valid) mask is
    applied, and TC is the mean over **all** ``num_classes`` classes of
    ``I / (U + 1e-10)`` (a class absent from both maps counts 0). Result
    keys then read ``TC_etc(flow=...)``. Flow selection is the same.

    Args:
        flow_source (str): ``'auto'``, ``'gt'``, ``'pred'`` or ``'dis'``.
        dis_preset (str): DIS preset for ``flow_source='dis'``:
            ``'ultrafast'``, ``'fast'`` or ``'medium'`` (default).
        mode (str): ``'ours'`` (default, described above) or ``'etc'``.
        exclude_occluded (bool, optional): drop occluded pixels. Defaults
            to True for ``mode='ours'``; must stay unset (or False) for
            ``mode='etc'``, which has no occlusion mask.
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
                 exclude_occluded: Optional[bool] = None,
                 occ_source: str = 'auto',
                 occ_threshold: float = 0.5,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 pred_flow_name: str = 'EFC-pred',
                 mode: str = 'ours',
                 dis_preset: str = 'medium',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if mode not in _MODES:
            raise ValueError('TemporalConsistencyMetric: mode must be one of '
                             f'{_MODES}, got {mode!r}')
        if mode == 'etc':
            if exclude_occluded:
                raise ValueError(
                    "TemporalConsistencyMetric: mode='etc' reproduces ETC's "
                    'script, which applies no occlusion mask; drop '
                    "exclude_occluded=True (or use mode='ours')")
            exclude_occluded = False
        elif exclude_occluded is None:
            exclude_occluded = True
        self.mode = mode
        if flow_source not in _FLOW_SOURCES:
            raise ValueError('TemporalConsistencyMetric: flow_source must be '
                             f'one of {_FLOW_SOURCES}, got {flow_source!r}')
        if occ_source not in _OCC_SOURCES:
            raise ValueError('TemporalConsistencyMetric: occ_source must be '
                             f'one of {_OCC_SOURCES}, got {occ_source!r}')
        if dis_preset not in _DIS_PRESETS:
            raise ValueError('TemporalConsistencyMetric: dis_preset must be '
                             f'one of {_DIS_PRESETS}, got {dis_preset!r}')
        self.flow_source = flow_source
        self.dis_preset = dis_preset
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
        name = 'TC_etc' if self.mode == 'etc' else 'TC'
        flow = dict(gt='gt', dis='DIS').get(source, self.pred_flow_name)
        return f'{name}(flow={flow})'

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
            elif source == 'dis':
                flow = self._dis(f1, f2, tuple(p1.shape[-2:]), name)
                valid = None
                fname = 'DIS flow'
            else:
                flow = need(d, 'pred_flow_fw', name,
                            " with flow_source='pred'" + hint)
                valid = None
                fname = 'pred_flow_fw'
            check_shape(flow, p1, fname, 'frame1.pred_sem_seg', name)
            if self.mode == 'etc':
                warped = warp_labels_etc(p2, flow)
                inter, union = etc_intersect_union(p1, warped, num_classes,
                                                   self.ignore_index)
                self.results.append(
                    dict(source=source, intersect=inter.cpu().numpy(),
                         union=union.cpu().numpy()))
                continue
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

    def _dis(self, f1: dict, f2: dict, size: Tuple[int, int],
             name: str) -> torch.Tensor:
        """``(2, H, W)`` DIS flow frame 1 -> frame 2 at ``size`` from the
        frames' image files."""
        import cv2
        imgs = []
        for fd, key in ((f1, 'frame1'), (f2, 'frame2')):
            path = fd.get('img_path')
            if path is None:
                raise KeyError(f"{name} with flow_source='dis' needs "
                               f'{key}.img_path (the frame file) in each '
                               'pair data sample')
            img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise FileNotFoundError(f"{name} (flow_source='dis'): cannot"
                                        f' read {key} image {path}')
            if img.shape != size:
                img = cv2.resize(img, (size[1], size[0]),
                                 interpolation=cv2.INTER_AREA)
            imgs.append(img)
        flow = dis_flow(imgs[0], imgs[1], self.dis_preset)
        return torch.from_numpy(flow.transpose(2, 0, 1).copy())

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
        """``TC(flow=gt)``, ``TC(flow=<pred_flow_name>)`` and / or
        ``TC(flow=DIS)`` in % (``TC_etc(...)`` with ``mode='etc'``)."""
        metrics = {}
        for source in ('gt', 'pred', 'dis'):
            rows = [r for r in results if r['source'] == source]
            if not rows:
                continue
            inter = np.sum([r['intersect'] for r in rows], axis=0)
            union = np.sum([r['union'] for r in rows], axis=0)
            if self.mode == 'etc':  # every class, absent ones count 0
                metrics[self._key(source)] = 100.0 * float(
                    np.mean(inter / (union + ETC_EPS)))
                continue
            metrics[self._key(source)] = 100.0 * iou_from_intersect_union(
                inter, union)
        return metrics
