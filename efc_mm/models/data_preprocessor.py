"""Data preprocessor for batches of frame pairs (and plain single frames)."""
from typing import Any, Dict

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.data_preprocessor import SegDataPreProcessor

from ..registry import MODELS

_PAIR_PIXEL_FIELDS = {
    # field: padding value
    'gt_flow_fw': 0.,
    'gt_flow_bw': 0.,
    'gt_valid_fw': 0.,
    'gt_valid_bw': 0.,
    'gt_occ_fw': 0.,
    'gt_occ_bw': 0.,
}


@MODELS.register_module()
class PairSegDataPreProcessor(SegDataPreProcessor):
    """mmseg's :class:`SegDataPreProcessor`, extended to pairs of frames.

    * Single frames (each input ``(3, H, W)``): exactly mmseg's behaviour,
      so validation / test configs and ``tools/test.py`` work unchanged.
    * Pairs (each input ``(2, 3, H, W)``, data samples are
      :class:`~efc_mm.structures.PairDataSample`): BGR->RGB, normalisation,
      and padding to ``size`` / ``size_divisor`` of both frames together
      (the pad is the same for both), of both frames' ``gt_sem_seg``
      (``seg_pad_val``) and of every optional flow / occlusion map (0, which
      also marks padded flow as invalid). Returns ``inputs`` of shape
      ``(B, 2, 3, H, W)``.

    Args: as :class:`SegDataPreProcessor`.
    """

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Normalise, pad and stack; dispatch on single frames vs pairs."""
        inputs = data['inputs']
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs[0]
        if first.dim() == 3:
            return super().forward(data, training)
        if first.dim() != 4 or first.shape[0] != 2:
            raise ValueError(
                'PairSegDataPreProcessor expects each input to be (3, H, W) '
                f'(a frame) or (2, 3, H, W) (a pair), got {tuple(first.shape)}')
        data = self.cast_data(data)
        inputs = list(data['inputs'])
        data_samples = data.get('data_samples', None)
        for i, pair in enumerate(inputs):
            if pair.shape[1] != 3:
                raise ValueError(
                    f'pair {i} of the batch has {pair.shape[1]} channels per '
                    'frame, expected 3 (colour images)')
        if self.channel_conversion:
            inputs = [x[:, [2, 1, 0], ...] for x in inputs]
        inputs = [x.float() for x in inputs]
        if self._enable_normalize:
            inputs = [(x - self.mean) / self.std for x in inputs]

        size = self.size
        size_divisor = self.size_divisor
        if not training:
            size = self.test_cfg.get('size', None) if self.test_cfg else None
            size_divisor = (self.test_cfg.get('size_divisor', None)
                            if self.test_cfg else None)
        sizes = torch.tensor([x.shape[-2:] for x in inputs])
        target_h, target_w = sizes.max(0).values.tolist()
        if size is not None:
            target_h, target_w = max(target_h, size[0]), max(target_w, size[1])
        elif size_divisor is not None and size_divisor > 1:
            target_h = -(-target_h // size_divisor) * size_divisor
            target_w = -(-target_w // size_divisor) * size_divisor

        padded = []
        for i, x in enumerate(inputs):
            pad = (0, target_w - x.shape[-1], 0, target_h - x.shape[-2])
            padded.append(F.pad(x, pad, value=self.pad_val))
            if data_samples is None:
                continue
            sample = data_samples[i]
            for frame in sample.frames:
                if 'gt_sem_seg' in frame:
                    frame.gt_sem_seg = PixelData(data=F.pad(
                        frame.gt_sem_seg.data, pad, value=self.seg_pad_val))
                frame.set_metainfo(dict(pad_shape=(target_h, target_w)))
            for field, value in _PAIR_PIXEL_FIELDS.items():
                if field in sample:
                    setattr(sample, field, PixelData(data=F.pad(
                        getattr(sample, field).data, pad, value=value)))
            sample.set_metainfo(dict(pad_shape=(target_h, target_w)))
        return dict(inputs=torch.stack(padded, 0), data_samples=data_samples)
