"""Loading a pair of frames and its annotations into a results dict.

The results dict of a pair (every pair transform reads and writes these keys;
:class:`~efc_mm.datasets.transforms.PackPairInputs` packs them):

========================  ====================================================
``img``, ``img2``         frame i and frame i+t, ``(H, W, 3)`` uint8 BGR
``img_path``,             their files
``img2_path``
``ori_shape``,            ``(H, W)`` shared by both frames (a pair of
``img_shape``             different sizes is refused on loading)
``gt_seg_map``,           ``(H, W)`` uint8 train ids of frame i / i+t;
``gt_seg_map2``           **all 255** for an unlabelled frame (never missing)
``seg_map_path``,         label files (``None`` when unlabelled)
``seg_map2_path``
``gt_flow_fw``            optional ``(H, W, 2)`` float32 flow i -> i+t (u, v)
``gt_flow_bw``            optional ``(H, W, 2)`` float32 flow i+t -> i
``gt_valid_fw/bw``        ``(H, W)`` float32 {0, 1}, present with the flow
``gt_occ_fw/bw``          optional ``(H, W)`` float32 {0, 1}, 1 = occluded
``seg_fields``            ``['gt_seg_map', 'gt_seg_map2']`` (mmseg style)
``frame_gap``,            pair metainfo (set by the dataset)
``labelled``,
``sequence``
========================  ====================================================

Paths the dataset may put in the data info for :class:`LoadPairAnnotations`:
``seg_map_path``, ``seg_map2_path`` (``None`` = unlabelled),
``flow_fw_path``, ``flow_bw_path`` (KITTI 16-bit PNG or Middlebury ``.flo``;
the flow's valid mask comes from the PNG's third channel, or is 1 wherever a
``.flo`` vector is finite and below 1e9), ``flow_noc_fw_path``,
``flow_noc_bw_path`` (KITTI PNGs of the non-occluded flow: occlusion =
``valid_occ & !valid_noc``), ``occ_fw_path``, ``occ_bw_path`` (uint8 PNGs,
> 127 = occluded; used only where no ``flow_noc_*`` path is given).
"""
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from ...fileio import read_flo, read_flow_kitti
from ...registry import TRANSFORMS

#: image keys of a pair, frame i first
IMG_KEYS = ('img', 'img2')
#: label keys of a pair (per frame)
SEG_KEYS = ('gt_seg_map', 'gt_seg_map2')
#: flow keys of a pair
FLOW_KEYS = ('gt_flow_fw', 'gt_flow_bw')
#: valid-mask keys (fill 0 outside the image after a geometric transform)
VALID_KEYS = ('gt_valid_fw', 'gt_valid_bw')
#: occlusion keys (fill 1 = out of view outside the image)
OCC_KEYS = ('gt_occ_fw', 'gt_occ_bw')
#: flow key -> its valid key
FLOW_VALID = dict(zip(FLOW_KEYS, VALID_KEYS))


def _read_bytes(path: str, what: str, backend_args: Optional[dict]) -> bytes:
    """Read a file, raising :class:`FileNotFoundError` naming it."""
    if backend_args is None and not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    try:
        return fileio.get(path, backend_args=backend_args)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'{what} not found: {path}') from e


def load_image(path: str, what: str = 'image', color_type: str = 'color',
               backend: str = 'cv2',
               backend_args: Optional[dict] = None) -> np.ndarray:
    """Read an image with mmcv; clear errors for missing / corrupt files."""
    img_bytes = _read_bytes(path, what, backend_args)
    try:
        img = mmcv.imfrombytes(img_bytes, flag=color_type, backend=backend)
    except Exception as e:  # pillow raises on garbage, cv2 returns None
        raise ValueError(
            f'{what} {path} is unreadable (corrupt or not an image): {e}'
        ) from e
    if img is None or img.size == 0:
        raise ValueError(
            f'{what} {path} is unreadable (corrupt or not an image)')
    return img


def load_seg_map(path: str,
                 label_map: Optional[dict] = None,
                 reduce_zero_label: bool = False,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a label PNG as mmseg does (``label_map``, ``reduce_zero_label``)
    and check that every value is a class id or ``ignore_index``."""
    raw = load_image(path, 'label map', 'unchanged', backend, backend_args)
    if raw.ndim == 3:
        if raw.shape[2] != 1:
            raise ValueError(
                f'label map {path} has {raw.shape[2]} channels; expected a '
                'single-channel map of train ids')
        raw = raw[..., 0]
    if raw.dtype != np.uint8 and raw.max() > 255:
        raise ValueError(f'label map {path}: values up to {raw.max()} do not '
                         'fit train ids (expected uint8, 255 = ignore)')
    seg = raw.astype(np.uint8)
    if reduce_zero_label:
        seg[seg == 0] = 255
        seg = seg - 1
        seg[seg == 254] = 255
    if label_map:
        src = seg.copy()
        for old_id, new_id in label_map.items():
            seg[src == old_id] = new_id
    if num_classes is not None:
        values = np.unique(seg)
        bad = values[(values >= num_classes) & (values != ignore_index)]
        if bad.size:
            raise ValueError(
                f'label map {path} holds values {bad.tolist()} outside the '
                f'{num_classes} classes (0..{num_classes - 1}) and not the '
                f'ignore index {ignore_index}')
    return seg


def load_flow(path: str):
    """Read ground-truth flow (KITTI PNG or ``.flo``) -> ``(flow, valid)``,
    ``(H, W, 2)`` and ``(H, W)`` float32."""
    if path.endswith('.flo'):
        flow = read_flo(path).astype(np.float32)
        valid = (np.isfinite(flow).all(-1)
                 & (np.abs(flow) < 1e9).all(-1)).astype(np.float32)
        flow = np.where(valid[..., None] > 0, flow, 0).astype(np.float32)
        return np.ascontiguousarray(flow), valid
    if path.endswith('.png'):
        flow, valid = read_flow_kitti(path)
        return np.ascontiguousarray(flow), valid
    raise ValueError(f'flow file {path}: unknown format (expected a KITTI '
                     '16-bit .png or a Middlebury .flo)')


def _check_shape(arr: np.ndarray, shape, path: str, what: str) -> None:
    if tuple(arr.shape[:2]) != tuple(shape):
        raise ValueError(
            f'{what} {path} is {arr.shape[1]}x{arr.shape[0]} (WxH) but the '
            f'pair images are {shape[1]}x{shape[0]}')


@TRANSFORMS.register_module()
class LoadPairFromFile(BaseTransform):
    """Load both frames of a pair.

    Required keys: ``img_path``, ``img2_path``. Added keys: ``img``,
    ``img2``, ``img_shape``, ``ori_shape``.

    Args:
        to_float32 (bool): cast images to float32. Defaults to False.
        color_type (str): ``mmcv.imfrombytes`` flag. Defaults to 'color'.
        imdecode_backend (str): Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.

    Raises:
        FileNotFoundError: a frame is missing (the message names it).
        ValueError: a frame is unreadable, or the two frames differ in size
            (the message names both files).
    """

    def __init__(self, to_float32: bool = False, color_type: str = 'color',
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.to_float32 = to_float32
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args.copy() if backend_args else None

    def transform(self, results: dict) -> dict:
        imgs = []
        for key, what in (('img_path', 'frame 1 (frame i)'),
                          ('img2_path', 'frame 2 (frame i+t)')):
            if results.get(key) is None:
                raise KeyError(f'LoadPairFromFile needs results[{key!r}]')
            img = load_image(results[key], f'{what} image', self.color_type,
                             self.imdecode_backend, self.backend_args)
            if self.to_float32:
                img = img.astype(np.float32)
            imgs.append(img)
        if imgs[0].shape != imgs[1].shape:
            raise ValueError(
                'the frames of a pair differ in size: '
                f'{results["img_path"]} is {imgs[0].shape[1]}x'
                f'{imgs[0].shape[0]} but {results["img2_path"]} is '
                f'{imgs[1].shape[1]}x{imgs[1].shape[0]} (WxH)')
        results['img'], results['img2'] = imgs
        results['img_shape'] = imgs[0].shape[:2]
        results['ori_shape'] = imgs[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f"color_type='{self.color_type}')")


@TRANSFORMS.register_module()
class LoadPairAnnotations(BaseTransform):
    """Load per-frame labels and pair flow / occlusion ground truth.

    Run after :class:`LoadPairFromFile`. For each frame, ``seg_map_path`` /
    ``seg_map2_path`` are read (mmseg semantics: ``label_map``,
    ``reduce_zero_label`` from the data info) or, when ``None`` / absent,
    replaced by an all-``ignore_index`` map. Flow and occlusion files are
    read when their paths are in the data info (see the module docstring).
    Every map is checked to have the images' original size
    (``ori_shape``, the size :class:`LoadPairFromFile` read), so a test
    pipeline may resize the images before this transform, as mmseg's test
    pipelines do: the labels then stay at full resolution, where the
    predictions are restored to.

    Args:
        with_seg (bool): load labels (else all-255 maps). Defaults to True.
        with_flow (bool): load flow / occlusion when paths are given.
            Defaults to True.
        check_labels (bool): refuse label values that are neither a class
            id (``< results['num_classes']``, when the dataset sets it) nor
            ``ignore_index``. Defaults to True.
        imdecode_backend (str): Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self, with_seg: bool = True, with_flow: bool = True,
                 check_labels: bool = True, imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.with_seg = with_seg
        self.with_flow = with_flow
        self.check_labels = check_labels
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args.copy() if backend_args else None

    def _seg(self, results: dict, path_key: str, shape) -> np.ndarray:
        ignore = results.get('ignore_index', 255)
        path = results.get(path_key) if self.with_seg else None
        if path is None:
            return np.full(shape, ignore, np.uint8)
        seg = load_seg_map(
            path, results.get('label_map'),
            bool(results.get('reduce_zero_label', False)),
            results.get('num_classes') if self.check_labels else None,
            ignore, self.imdecode_backend, self.backend_args)
        _check_shape(seg, shape, path, 'label map')
        return seg

    def transform(self, results: dict) -> dict:
        if 'img' not in results:
            raise KeyError('LoadPairAnnotations runs after LoadPairFromFile '
                           "(results['img'] is missing)")
        shape = tuple(results.get('ori_shape', results['img'].shape[:2]))[:2]
        results['gt_seg_map'] = self._seg(results, 'seg_map_path', shape)
        results['gt_seg_map2'] = self._seg(results, 'seg_map2_path', shape)
        seg_fields = results.setdefault('seg_fields', [])
        for k in SEG_KEYS:
            if k not in seg_fields:
                seg_fields.append(k)
        if not self.with_flow:
            return results
        for d in ('fw', 'bw'):
            path = results.get(f'flow_{d}_path')
            if path is None:
                continue
            flow, valid = load_flow(path)
            _check_shape(flow, shape, path, 'flow file')
            results[f'gt_flow_{d}'] = flow
            results[f'gt_valid_{d}'] = valid
            noc_path = results.get(f'flow_noc_{d}_path')
            occ_path = results.get(f'occ_{d}_path')
            if noc_path is not None:
                _, valid_noc = load_flow(noc_path)
                _check_shape(valid_noc, shape, noc_path, 'flow file')
                results[f'gt_occ_{d}'] = (
                    (valid > 0) & (valid_noc == 0)).astype(np.float32)
            elif occ_path is not None:
                occ = load_image(occ_path, 'occlusion map', 'unchanged',
                                 self.imdecode_backend, self.backend_args)
                if occ.ndim == 3:
                    occ = occ[..., 0]
                _check_shape(occ, shape, occ_path, 'occlusion map')
                results[f'gt_occ_{d}'] = (occ > 127).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_seg={self.with_seg}, '
                f'with_flow={self.with_flow})')
