"""Data preprocessor for batches of frame pairs (and plain single frames)."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.utils import stack_batch

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


def _describe_input(i: int, frame: Optional[int],
                    data_samples: Optional[Sequence]) -> str:
    """``'input 1 of the batch (frame 2, path/b.png)'`` for error messages."""
    what = f'input {i} of the batch'
    path = None
    if data_samples is not None and i < len(data_samples):
        s = data_samples[i]
        if frame is not None and hasattr(s, 'frames'):
            path = s.frames[frame].metainfo.get('img_path')
        else:
            path = s.metainfo.get('img_path')
    parts = [] if frame is None else [f'frame {frame + 1}']
    if path:
        parts.append(str(path))
    return what + (f' ({", ".join(parts)})' if parts else '')


def check_finite_inputs(inputs: Sequence[torch.Tensor],
                        data_samples: Optional[Sequence] = None,
                        name: str = 'PairSegDataPreProcessor') -> None:
    """Refuse float inputs holding NaN / inf, naming the sample, the frame
    and its file: a NaN patch otherwise gives a confident wrong
    segmentation and NaN flow without any error.

    One device sync for the whole batch; the culprit is looked for only
    when the check fails. Integer inputs (uint8 images) pass untouched.
    """
    floats = [(i, x) for i, x in enumerate(inputs) if x.is_floating_point()]
    if not floats:
        return
    if bool(torch.stack([torch.isfinite(x).all() for _, x in floats]).all()):
        return
    bad: List[str] = []
    for i, x in floats:
        frames = [None] if x.dim() == 3 else list(range(x.shape[0]))
        for f in frames:
            v = x if f is None else x[f]
            n = int((~torch.isfinite(v)).sum())
            if n:
                bad.append(f'{_describe_input(i, f, data_samples)}: {n} of '
                           f'{v.numel()} values are NaN or inf')
    raise ValueError(f'{name}: non-finite input image values; expected '
                     'finite pixel values. ' + '; '.join(bad))


@MODELS.register_module()
class PairSegDataPreProcessor(SegDataPreProcessor):
    """mmseg's :class:`SegDataPreProcessor`, extended to pairs of frames.

    * Single frames (each input ``(3, H, W)``): exactly mmseg's behaviour,
      so validation / test configs and ``tools/test.py`` work unchanged.
    * Pairs (each input ``(2, 3, H, W)``, data samples are
      :class:`~efc_mm.structures.PairDataSample`): BGR->RGB, normalisation,
      and padding of the 2B frames with mmseg's ``stack_batch`` to one size
      (the batch's largest frame, at least ``size``, rounded up to
      ``size_divisor``; the pad is the same for both frames of a pair), so
      every frame's metainfo carries ``padding_size`` / ``pad_shape`` as in
      mmseg; both frames' ``gt_sem_seg`` are padded with ``seg_pad_val``
      and every optional flow / occlusion map with 0 (which also marks
      padded flow as invalid). Returns ``inputs`` of shape
      ``(B, 2, 3, H, W)``.

    Float inputs holding NaN / inf are refused with an error naming the
    sample, the frame and its file (both paths).

    Args: as :class:`SegDataPreProcessor`.
    """

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Normalise, pad and stack; dispatch on single frames vs pairs."""
        inputs = data['inputs']
        check_finite_inputs(inputs, data.get('data_samples'),
                            type(self).__name__)
        if inputs[0].dim() == 3:
            return super().forward(data, training)
        _check_pairs(inputs)
        data = self.cast_data(data)
        inputs = self._normalise(list(data['inputs']))
        data_samples = data.get('data_samples', None)
        target = self._target_size(inputs, training)
        frames = [x[j] for x in inputs for j in range(2)]
        frame_samples = None if data_samples is None else \
            [fs for s in data_samples for fs in s.frames]
        stacked, _ = stack_batch(frames, frame_samples, size=target,
                                 pad_val=self.pad_val,
                                 seg_pad_val=self.seg_pad_val)
        stacked = stacked.view(len(inputs), 2, *stacked.shape[1:])
        if data_samples is not None:
            _set_pair_padding(data_samples, inputs, target)
        return dict(inputs=stacked, data_samples=data_samples)

    def _normalise(self, inputs: List[torch.Tensor]) -> List[torch.Tensor]:
        """BGR->RGB (``channel_conversion``), float, mean / std."""
        if self.channel_conversion:
            inputs = [x[:, [2, 1, 0], ...] for x in inputs]
        inputs = [x.float() for x in inputs]
        if self._enable_normalize:
            inputs = [(x - self.mean) / self.std for x in inputs]
        return inputs

    def _target_size(self, inputs: List[torch.Tensor],
                     training: bool) -> Tuple[int, int]:
        """``(h, w)`` every frame is padded to: the batch's largest frame,
        at least ``size``, else rounded up to ``size_divisor`` (in test
        mode those of ``test_cfg``)."""
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
        return target_h, target_w


def _check_pairs(inputs: Sequence[torch.Tensor]) -> None:
    """Refuse inputs that are not ``(2, 3, H, W)`` pairs."""
    first = inputs[0]
    if first.dim() != 4 or first.shape[0] != 2:
        raise ValueError(
            'PairSegDataPreProcessor expects each input to be (3, H, W) '
            '(a frame) or (2, 3, H, W) (a pair), got '
            f'{tuple(first.shape)}')
    for i, pair in enumerate(inputs):
        if pair.shape[1] != 3:
            raise ValueError(
                f'pair {i} of the batch has {pair.shape[1]} channels per '
                'frame, expected 3 (colour images)')


def _set_pair_padding(data_samples: Sequence, inputs: List[torch.Tensor],
                      target: Tuple[int, int]) -> None:
    """After ``stack_batch`` padded the frames to ``target``: the true
    shapes in every frame's metainfo, the pad on every flow / occlusion
    map and in the pair's metainfo."""
    for i, sample in enumerate(data_samples):
        pad = None
        for frame, x in zip(sample.frames, inputs[i]):
            pad = list(frame.metainfo['padding_size'])
            # stack_batch sets img_shape to a torch.Size (mmseg's decode
            # head then takes it for slide inference and resizes logits
            # to the unpadded size) and pad_shape from gt_sem_seg (None
            # without a label): plain tuples of the true shapes instead
            frame.set_metainfo(dict(img_shape=tuple(x.shape[-2:]),
                                    pad_shape=target))
        for field, value in _PAIR_PIXEL_FIELDS.items():
            if field in sample:
                setattr(sample, field, PixelData(data=F.pad(
                    getattr(sample, field).data, pad, value=value)))
        sample.set_metainfo(dict(pad_shape=target, padding_size=pad))
