"""Packing a pair's results dict into the model's input (the pair contract
of ``docs/design.md`` and :mod:`efc_mm.structures.pair_data_sample`)."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from ...registry import TRANSFORMS
from ...structures import PairDataSample
from .loading import FLOW_KEYS, IMG_KEYS, OCC_KEYS, SEG_KEYS, VALID_KEYS

#: per-frame metainfo keys; frame 2 takes ``img2_path`` / ``seg_map2_path``
FRAME_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                   'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                   'reduce_zero_label')
#: pair metainfo keys
PAIR_META_KEYS = ('frame_gap', 'labelled', 'sequence', 'img_shape',
                  'ori_shape', 'pad_shape', 'scale_factor', 'flip',
                  'flip_direction', 'rotate_angle', 'img_path', 'img2_path')


@TRANSFORMS.register_module()
class PackPairInputs(BaseTransform):
    """Pack a pair into ``dict(inputs, data_samples)``.

    * ``inputs``: uint8 ``Tensor(2, 3, H, W)``, BGR, frame i first.
    * ``data_samples``: :class:`PairDataSample` with ``frame1`` / ``frame2``
      :class:`SegDataSample` s, each with ``gt_sem_seg`` ``(1, H, W)`` long
      (all ``ignore_index`` when the frame has no label, or when no label
      was loaded at all) and the per-frame metainfo; pair fields
      ``gt_flow_fw/bw`` ``(2, H, W)`` float, ``gt_valid_fw/bw`` and
      ``gt_occ_fw/bw`` ``(1, H, W)`` float in {0, 1} when present; pair
      metainfo ``frame_gap``, ``labelled``, ``sequence`` and shapes.

    Args:
        meta_keys (Sequence[str]): per-frame metainfo keys.
        pair_meta_keys (Sequence[str]): pair metainfo keys.
        ignore_index (int): label fill of unlabelled frames. Defaults to 255.
    """

    def __init__(self, meta_keys: Sequence[str] = FRAME_META_KEYS,
                 pair_meta_keys: Sequence[str] = PAIR_META_KEYS,
                 ignore_index: int = 255) -> None:
        self.meta_keys = tuple(meta_keys)
        self.pair_meta_keys = tuple(pair_meta_keys)
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        for k in IMG_KEYS:
            if k not in results:
                raise KeyError(f'PackPairInputs needs results[{k!r}] '
                               '(frame 1 = img, frame 2 = img2)')
        imgs = [results[k] for k in IMG_KEYS]
        if imgs[0].shape != imgs[1].shape:
            raise ValueError(
                f'cannot pack a pair of different shapes: {imgs[0].shape} '
                f'({results.get("img_path")}) vs {imgs[1].shape} '
                f'({results.get("img2_path")})')
        imgs = [i[..., None] if i.ndim == 2 else i for i in imgs]
        arr = np.stack(imgs, 0).transpose(0, 3, 1, 2)
        inputs = torch.from_numpy(np.ascontiguousarray(arr))
        if inputs.dtype != torch.uint8 and all(
                i.dtype == np.uint8 for i in imgs):
            inputs = inputs.to(torch.uint8)
        h, w = imgs[0].shape[:2]
        results.setdefault('pad_shape', (h, w))

        sample = PairDataSample()
        frames = []
        for i, seg_key in enumerate(SEG_KEYS):
            frame = SegDataSample()
            seg = results.get(seg_key)
            if seg is None:
                seg = np.full((h, w), self.ignore_index, np.int64)
            frame.gt_sem_seg = PixelData(data=torch.from_numpy(
                np.ascontiguousarray(seg[None]).astype(np.int64)))
            meta = {}
            for k in self.meta_keys:
                src = k
                if i == 1 and k in ('img_path', 'seg_map_path'):
                    src = k.replace('_path', '2_path')
                if src in results:
                    meta[k] = results[src]
            frame.set_metainfo(meta)
            frames.append(frame)
        sample.frame1, sample.frame2 = frames

        for k in FLOW_KEYS:
            if k in results:
                sample.set_field(PixelData(data=torch.from_numpy(
                    np.ascontiguousarray(
                        results[k].transpose(2, 0, 1)).astype(np.float32))),
                    k)
        for k in VALID_KEYS + OCC_KEYS:
            if k in results:
                sample.set_field(PixelData(data=torch.from_numpy(
                    np.ascontiguousarray(results[k][None]).astype(
                        np.float32))), k)
        meta = {k: results[k] for k in self.pair_meta_keys if k in results}
        if 'labelled' not in meta and 'labelled' in self.pair_meta_keys:
            meta['labelled'] = (results.get('seg_map_path') is not None,
                                results.get('seg_map2_path') is not None)
        if 'labelled' in meta:
            meta['labelled'] = tuple(bool(x) for x in meta['labelled'])
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
