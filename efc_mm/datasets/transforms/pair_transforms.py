"""Geometric and photometric transforms applied consistently to a pair.

Every geometric transform applies **the same** mapping to both frames, their
labels and every flow / valid / occlusion map (keys in
:mod:`efc_mm.datasets.transforms.loading`), and transforms flow *vectors* so
that they keep meaning "where the pixel of frame i is in frame i+t":

* resize by ``(sx, sy)``: ``u' = sx * u``, ``v' = sy * v`` (resampled);
* crop: vectors unchanged (both frames move by the same offset);
* horizontal flip: mirrored and ``u' = -u``; vertical: ``v' = -v``;
* rotation ``p' = A p + b`` of both frames: ``F'(p') = A F(A^-1 (p' - b))``.
  Angles follow mmcv (positive = clockwise on screen, y down); a clockwise
  rotation by 90 degrees maps ``(u, v)`` to ``(-v, u)``.

Resampling: images bilinear, labels nearest (fill 255), valid masks nearest
(fill 0), occlusion masks nearest (fill 1 = out of view). Flow is resampled
bilinearly, *normalised by the valid mask* (so invalid / out-of-image samples
never leak into the result) when the flow is dense (valid everywhere), and by
nearest neighbour, together with its valid mask, when it is sparse (KITTI
LiDAR ground truth), so a sparse vector is never blended with a hole.

Randomness: each geometric transform draws once and applies that draw to
every map itself (not through mmcv's ``TransformBroadcaster``: a per-image
transform broadcast over the frames could not scale, negate or rotate the
flow *vectors*). The colour jitter, which touches the two images only, is
mmcv's ``TransformBroadcaster`` over ``img`` / ``img2`` with shared random
parameters (:class:`PairPhotoMetricDistortion`).

Not done (documented decision): a crop or rotation can move the *target* of
a valid vector out of the new frame; ``gt_occ_*`` is not updated for that, as
evaluation pipelines only resize. Warping-based checks must test the target's
bounds themselves.
"""
from typing import Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, TransformBroadcaster
from mmcv.transforms.utils import cache_randomness
from mmseg.datasets.transforms import PhotoMetricDistortion

from ...registry import TRANSFORMS
from .loading import (FLOW_KEYS, FLOW_VALID, IMG_KEYS, OCC_KEYS, SEG_KEYS,
                      VALID_KEYS)


def _seg_keys(results: dict):
    keys = list(SEG_KEYS)
    for k in results.get('seg_fields', []):
        if k not in keys:
            keys.append(k)
    return [k for k in keys if k in results]


def _is_sparse(results: dict, flow_key: str) -> bool:
    valid = results.get(FLOW_VALID[flow_key])
    return valid is not None and not bool((valid > 0).all())


def _resample_pair(results: dict, sample_fn, vector_fn=None,
                   img_fill: float = 0, seg_fill: int = 255) -> None:
    """Apply one resampling to every map of a pair.

    ``sample_fn(arr, interp, border)`` resamples an ``(H, W[, C])`` array
    (``interp`` in {'bilinear', 'nearest'}). ``vector_fn(flow)`` maps the
    resampled flow vectors ``(H, W, 2)`` to the new frame.
    """
    flows = {}
    for fk in FLOW_KEYS:
        if fk not in results:
            continue
        flow = results[fk].astype(np.float32)
        vk = FLOW_VALID[fk]
        valid = results.get(vk)
        if valid is None:
            valid = np.ones(flow.shape[:2], np.float32)
        valid = (valid > 0).astype(np.float32)
        if _is_sparse(results, fk):
            new_flow = sample_fn(flow, 'nearest', 0)
            new_valid = sample_fn(valid, 'nearest', 0)
        else:
            num = sample_fn(flow * valid[..., None], 'bilinear', 0)
            den = sample_fn(valid, 'bilinear', 0)
            near = sample_fn(valid, 'nearest', 0)
            new_valid = ((den > 1e-3) & (near > 0)).astype(np.float32)
            new_flow = num / np.maximum(den, 1e-3)[..., None]
        new_flow = new_flow * new_valid[..., None]
        if vector_fn is not None:
            new_flow = vector_fn(new_flow)
        flows[fk] = (np.ascontiguousarray(new_flow, dtype=np.float32),
                     new_valid.astype(np.float32))
    for k in IMG_KEYS:
        if k in results:
            results[k] = sample_fn(results[k], 'bilinear', img_fill)
    for k in _seg_keys(results):
        results[k] = sample_fn(results[k], 'nearest', seg_fill)
    for k in OCC_KEYS:
        if k in results:
            results[k] = sample_fn(results[k].astype(np.float32), 'nearest',
                                   1).astype(np.float32)
    for fk, k in FLOW_VALID.items():   # a valid mask without its flow
        if k in results and fk not in results:
            results[k] = sample_fn(results[k], 'nearest', 0)
    for fk, (flow, valid) in flows.items():
        results[fk] = flow
        results[FLOW_VALID[fk]] = valid
    results['img_shape'] = results['img'].shape[:2]


def resize_pair(results: dict, new_w: int, new_h: int) -> Tuple[float, float]:
    """Resize every map of a pair to ``new_w x new_h``; returns the actual
    ``(w_scale, h_scale)`` (flow vectors are multiplied by them)."""
    h, w = results['img'].shape[:2]
    sx, sy = new_w / w, new_h / h

    def sample(arr, interp, border):
        return mmcv.imresize(arr, (new_w, new_h), interpolation=interp)

    _resample_pair(results, sample,
                   lambda f: f * np.array([sx, sy], np.float32))
    return sx, sy


@TRANSFORMS.register_module()
class PairResize(BaseTransform):
    """Resize both frames and all maps (the test-time resize).

    Args:
        scale (tuple[int, int] | float): ``(w, h)`` target (with
            ``keep_ratio``, the image is rescaled to fit it as mmcv's
            ``imrescale`` does: long side <= max, short side <= min), or a
            float factor of the current size.
        keep_ratio (bool): Defaults to True.

    Adds ``scale_factor`` ``(w_scale, h_scale)``; flow vectors are scaled.
    """

    def __init__(self, scale: Union[Tuple[int, int], float],
                 keep_ratio: bool = True) -> None:
        self.scale = scale
        self.keep_ratio = keep_ratio

    def _target(self, h: int, w: int, scale) -> Tuple[int, int]:
        if isinstance(scale, (int, float)) and not isinstance(scale, bool):
            return max(1, int(w * scale + 0.5)), max(1, int(h * scale + 0.5))
        if self.keep_ratio:
            return mmcv.rescale_size((w, h), tuple(scale))
        return int(scale[0]), int(scale[1])

    def _resize(self, results: dict, scale) -> dict:
        h, w = results['img'].shape[:2]
        new_w, new_h = self._target(h, w, scale)
        sx, sy = resize_pair(results, new_w, new_h)
        results['scale_factor'] = (sx, sy)
        results['scale'] = (new_w, new_h)
        results['keep_ratio'] = self.keep_ratio
        return results

    def transform(self, results: dict) -> dict:
        return self._resize(results, self.scale)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'keep_ratio={self.keep_ratio})')


@TRANSFORMS.register_module()
class PairRandomResize(PairResize):
    """Random rescale of a pair (same factor for both frames).

    Args:
        scale (tuple[int, int], optional): base ``(w, h)``; the target is
            ``scale * r`` with ``r ~ U(ratio_range)`` (mmseg ``RandomResize``
            semantics). ``None``: the target is the *image* size times ``r``.
        ratio_range (tuple[float, float]): Defaults to (0.5, 2.0).
        keep_ratio (bool): Defaults to True.
    """

    def __init__(self, scale: Optional[Tuple[int, int]] = None,
                 ratio_range: Tuple[float, float] = (0.5, 2.0),
                 keep_ratio: bool = True) -> None:
        super().__init__(scale, keep_ratio)
        if ratio_range[0] <= 0 or ratio_range[0] > ratio_range[1]:
            raise ValueError(f'ratio_range must be 0 < lo <= hi, got '
                             f'{ratio_range}')
        self.ratio_range = tuple(ratio_range)

    def transform(self, results: dict) -> dict:
        r = float(np.random.uniform(*self.ratio_range))
        if self.scale is None:
            return self._resize(results, r)
        return self._resize(
            results, (int(self.scale[0] * r), int(self.scale[1] * r)))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'ratio_range={self.ratio_range}, '
                f'keep_ratio={self.keep_ratio})')


@TRANSFORMS.register_module()
class PairRandomCrop(BaseTransform):
    """The same random crop for both frames and all maps.

    Args:
        crop_size (int | tuple[int, int]): ``(h, w)`` as mmseg's
            ``RandomCrop``; an image smaller than it is cropped to its own
            size (the data preprocessor pads).
        cat_max_ratio (float): as mmseg: retry (up to 10 times) while one
            class covers more than this fraction of the labelled pixels of
            the crop (both frames' labels counted). Skipped when the pair
            has no label.
        ignore_index (int): Defaults to 255.
    """

    def __init__(self, crop_size: Union[int, Tuple[int, int]],
                 cat_max_ratio: float = 1.,
                 ignore_index: int = 255) -> None:
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        crop_size = tuple(crop_size)
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'crop_size must be a positive int or (h, w), '
                             f'got {crop_size}')
        self.crop_size = crop_size
        self.cat_max_ratio = cat_max_ratio
        self.ignore_index = ignore_index

    def _bbox(self, h: int, w: int):
        mh = max(h - self.crop_size[0], 0)
        mw = max(w - self.crop_size[1], 0)
        y = np.random.randint(0, mh + 1)
        x = np.random.randint(0, mw + 1)
        return y, y + self.crop_size[0], x, x + self.crop_size[1]

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        bbox = self._bbox(h, w)
        segs = [results[k] for k in SEG_KEYS if k in results]
        labelled = any((s != self.ignore_index).any() for s in segs)
        if self.cat_max_ratio < 1. and labelled:
            for _ in range(10):
                y1, y2, x1, x2 = bbox
                vals = np.concatenate(
                    [s[y1:y2, x1:x2].ravel() for s in segs])
                labels, cnt = np.unique(vals, return_counts=True)
                cnt = cnt[labels != self.ignore_index]
                if len(cnt) > 1 and cnt.max() / cnt.sum() < \
                        self.cat_max_ratio:
                    break
                bbox = self._bbox(h, w)
        y1, y2, x1, x2 = bbox
        keys = (list(IMG_KEYS) + _seg_keys(results) + list(FLOW_KEYS) +
                list(VALID_KEYS) + list(OCC_KEYS))
        for k in keys:
            if k in results:
                results[k] = np.ascontiguousarray(results[k][y1:y2, x1:x2])
        results['img_shape'] = results['img'].shape[:2]
        results['crop_bbox'] = (x1, y1, min(x2, w), min(y2, h))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'cat_max_ratio={self.cat_max_ratio})')


def rotation_matrix(h: int, w: int, angle: float,
                    center: Optional[Tuple[float, float]] = None
                    ) -> np.ndarray:
    """2x3 matrix of mmcv's ``imrotate`` (clockwise degrees, no scaling,
    centre ``((w - 1) / 2, (h - 1) / 2)`` by default): ``p' = M [p; 1]``."""
    if center is None:
        center = ((w - 1) * 0.5, (h - 1) * 0.5)
    return cv2.getRotationMatrix2D(tuple(map(float, center)), -angle, 1.0)


def rotate_pair(results: dict, angle: float,
                center: Optional[Tuple[float, float]] = None,
                pad_val: float = 0, seg_pad_val: int = 255) -> np.ndarray:
    """Rotate a pair by ``angle`` degrees (clockwise) about ``center``,
    keeping the size; returns the 2x3 matrix used."""
    h, w = results['img'].shape[:2]
    mat = rotation_matrix(h, w, angle, center)
    lin = mat[:, :2].astype(np.float32)
    flags = {'bilinear': cv2.INTER_LINEAR, 'nearest': cv2.INTER_NEAREST}

    def sample(arr, interp, border):
        out = cv2.warpAffine(arr, mat, (w, h), flags=flags[interp],
                             borderMode=cv2.BORDER_CONSTANT,
                             borderValue=(float(border), ) * 4)
        if arr.ndim == 3 and out.ndim == 2:
            out = out[..., None]
        return out

    _resample_pair(results, sample, lambda f: f @ lin.T, pad_val,
                   seg_pad_val)
    return mat


@TRANSFORMS.register_module()
class PairRandomRotate(BaseTransform):
    """Rotate both frames by the same random angle; flow is rotated and
    resampled (``F'(p') = R F(R^-1 p')``).

    Args:
        prob (float): probability of rotating.
        degree (float | tuple[float, float]): angle range in degrees
            (``d`` means ``(-d, d)``); positive = clockwise (mmcv).
        pad_val (float): image fill. Defaults to 0.
        seg_pad_val (int): label fill. Defaults to 255.
        center (tuple, optional): rotation centre, default image centre.
    """

    def __init__(self, prob: float, degree: Union[float, Tuple[float, float]],
                 pad_val: float = 0., seg_pad_val: int = 255,
                 center: Optional[Tuple[float, float]] = None) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if isinstance(degree, (int, float)):
            if degree <= 0:
                raise ValueError(f'degree must be > 0, got {degree}')
            degree = (-degree, degree)
        self.prob = prob
        self.degree = tuple(degree)
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val
        self.center = center

    def transform(self, results: dict) -> dict:
        rotate = np.random.rand() < self.prob
        angle = float(np.random.uniform(*self.degree))
        if not rotate:
            return results
        rotate_pair(results, angle, self.center, self.pad_val,
                    self.seg_pad_val)
        results['rotate_angle'] = angle
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'degree={self.degree})')


@TRANSFORMS.register_module()
class PairRandomFlip(BaseTransform):
    """Flip both frames and all maps; negate ``u`` (horizontal) and / or
    ``v`` (vertical) of every flow.

    Args:
        prob (float | list[float]): flip probability (per direction when a
            list, as mmcv ``RandomFlip``).
        direction (str | list[str]): 'horizontal', 'vertical', 'diagonal'.

    Sets ``flip`` and ``flip_direction``.
    """

    _DIRECTIONS = ('horizontal', 'vertical', 'diagonal')

    def __init__(self, prob: Union[float, Sequence[float]] = 0.5,
                 direction: Union[str, Sequence[str]] = 'horizontal') -> None:
        dirs = [direction] if isinstance(direction, str) else list(direction)
        for d in dirs:
            if d not in self._DIRECTIONS:
                raise ValueError(f'flip direction {d!r} not in '
                                 f'{self._DIRECTIONS}')
        probs = list(prob) if isinstance(prob, (list, tuple)) else \
            [prob / len(dirs)] * len(dirs) if len(dirs) > 1 else [prob]
        if len(probs) != len(dirs) or sum(probs) > 1 + 1e-9:
            raise ValueError(f'prob {prob} does not fit directions {dirs}')
        self.prob = prob
        self.direction = direction
        self._dirs = dirs
        self._probs = probs

    @staticmethod
    def flip_pair(results: dict, direction: str) -> None:
        """Flip every map of a pair in place of ``results``."""
        axes = {'horizontal': (1, ), 'vertical': (0, ),
                'diagonal': (0, 1)}[direction]
        sign = np.array([-1 if 1 in axes else 1, -1 if 0 in axes else 1],
                        np.float32)
        keys = (list(IMG_KEYS) + _seg_keys(results) + list(VALID_KEYS) +
                list(OCC_KEYS))
        for k in keys:
            if k in results:
                results[k] = np.ascontiguousarray(np.flip(results[k], axes))
        for k in FLOW_KEYS:
            if k in results:
                results[k] = np.ascontiguousarray(
                    np.flip(results[k], axes) * sign)

    def transform(self, results: dict) -> dict:
        r = np.random.rand()
        chosen, acc = None, 0.
        for d, p in zip(self._dirs, self._probs):
            acc += p
            if r < acc:
                chosen = d
                break
        results['flip'] = chosen is not None
        results['flip_direction'] = chosen
        if chosen is not None:
            self.flip_pair(results, chosen)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'direction={self.direction})')


class SharedPhotoMetricDistortion(PhotoMetricDistortion):
    """mmseg's :class:`PhotoMetricDistortion` with all its random draws in
    one ``@cache_randomness`` method, made in the order and under the same
    conditions as mmseg's ``transform`` makes them (so a seed gives the same
    jitter as mmseg's), so that mmcv's ``TransformBroadcaster`` with
    ``share_random_params=True`` applies one jitter to several images."""

    @cache_randomness
    def draw_params(self) -> dict:
        """The jitter: ``None`` for a step that is skipped."""
        def maybe(draw):
            return draw() if np.random.randint(2) else None

        p = dict(brightness=maybe(lambda: np.random.uniform(
            -self.brightness_delta, self.brightness_delta)))
        p['mode'] = np.random.randint(2)
        contrast = (lambda: np.random.uniform(self.contrast_lower,
                                              self.contrast_upper))
        if p['mode'] == 1:
            p['contrast'] = maybe(contrast)
        p['saturation'] = maybe(lambda: np.random.uniform(
            self.saturation_lower, self.saturation_upper))
        p['hue'] = maybe(lambda: np.random.randint(-self.hue_delta,
                                                   self.hue_delta))
        if p['mode'] == 0:
            p['contrast'] = maybe(contrast)
        return p

    def transform(self, results: dict) -> dict:
        p = self.draw_params()
        img = results['img']
        if p['brightness'] is not None:
            img = self.convert(img, beta=p['brightness'])
        if p['mode'] == 1 and p['contrast'] is not None:
            img = self.convert(img, alpha=p['contrast'])
        if p['saturation'] is not None:
            img = mmcv.bgr2hsv(img)
            img[:, :, 1] = self.convert(img[:, :, 1], alpha=p['saturation'])
            img = mmcv.hsv2bgr(img)
        if p['hue'] is not None:
            img = mmcv.bgr2hsv(img)
            img[:, :, 0] = (img[:, :, 0].astype(int) + p['hue']) % 180
            img = mmcv.hsv2bgr(img)
        if p['mode'] == 0 and p['contrast'] is not None:
            img = self.convert(img, alpha=p['contrast'])
        results['img'] = img
        return results


@TRANSFORMS.register_module()
class PairPhotoMetricDistortion(TransformBroadcaster):
    """mmseg's :class:`PhotoMetricDistortion` (brightness, contrast,
    saturation, hue) on both frames, broadcast over ``img`` / ``img2`` by
    mmcv's :class:`TransformBroadcaster`.

    Args:
        independent (bool): draw the jitter independently per frame (True)
            or apply exactly the same jitter to both (False, default,
            ``share_random_params``).
            **Decision**: the default keeps brightness constancy between the
            frames, which the unsupervised photometric loss (eq. 5-6)
            assumes; set True for per-frame jitter (harder, more robust).
        **kwargs: ``brightness_delta``, ``contrast_range``,
            ``saturation_range``, ``hue_delta`` of PhotoMetricDistortion.
    """

    def __init__(self, independent: bool = False, **kwargs) -> None:
        self.independent = independent
        self.pmd = SharedPhotoMetricDistortion(**kwargs)
        super().__init__(transforms=[self.pmd],
                         mapping=dict(img=list(IMG_KEYS)),
                         share_random_params=not independent)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(independent={self.independent}, '
                f'{self.pmd!r})')
