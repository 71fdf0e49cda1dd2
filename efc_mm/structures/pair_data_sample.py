"""The pair sample: the one structure datasets, the model and metrics share.

A training or flow-evaluation item is a *pair* of frames (I_i, I_{i+t}) of one
clip. After :class:`efc_mm.datasets.transforms.PackPairInputs` it is::

    dict(inputs=Tensor(2, 3, H, W) uint8 (BGR, frame i first),
         data_samples=PairDataSample)

and after :class:`efc_mm.models.data_preprocessor.PairSegDataPreProcessor`
a batch is ``dict(inputs=Tensor(B, 2, 3, H, W) float normalised,
data_samples=[PairDataSample] * B)``.

Fields of :class:`PairDataSample` (all tensors cover the padded image):

=====================  =====================================================
``frame1``             :class:`mmseg.structures.SegDataSample` of frame i:
                       ``gt_sem_seg`` PixelData ``(1, H, W)`` long, **always
                       present**: an unlabelled frame carries all ``255``
                       (mmseg heads stack gt maps of every sample); metainfo
                       ``img_path``, ``ori_shape``, ``img_shape``,
                       ``flip``, ... as in mmseg; ``pad_shape`` and
                       ``padding_size`` are set by the data preprocessor
                       (mmseg's ``stack_batch``).
``frame2``             the same for frame i+t.
``gt_flow_fw``         optional PixelData ``(2, H, W)`` float: flow i -> i+t
                       in pixels, channel 0 = u (x), 1 = v (y).
``gt_flow_bw``         optional, flow i+t -> i.
``gt_valid_fw``        optional PixelData ``(1, H, W)`` float in {0, 1}:
                       where ``gt_flow_fw`` is defined (sparse KITTI GT).
``gt_valid_bw``        optional, for ``gt_flow_bw``.
``gt_occ_fw``          optional PixelData ``(1, H, W)`` float in {0, 1}:
                       1 = pixel of frame i occluded / out of view in i+t.
``gt_occ_bw``          optional, for frame i+t.
``pred_flow_fw`` ...   set by the model in pair ``predict`` mode:
                       ``pred_flow_fw``, ``pred_flow_bw`` (2, H, W),
                       ``pred_occ_fw``, ``pred_occ_bw`` (1, H, W) in [0, 1]
                       at the original (unpadded, unresized) resolution, and
                       ``frame1.pred_sem_seg`` / ``frame2.pred_sem_seg``.
=====================  =====================================================

Metainfo of the pair: ``frame_gap`` (t), ``labelled`` (tuple of two bools),
``img_shape`` / ``pad_shape`` / ``ori_shape`` (shared by both frames: a pair
of different sizes is refused upstream), ``sequence`` (clip id).
"""
from typing import List, Tuple

from mmengine.structures import BaseDataElement
from mmseg.structures import SegDataSample


class PairDataSample(BaseDataElement):
    """A pair of frames with their per-frame and pair-level annotations.

    See the module docstring for the fields. Access per-frame samples with
    ``sample.frame1`` / ``sample.frame2``; ``sample.frames`` gives both.
    """

    @property
    def frame1(self) -> SegDataSample:
        return self._frame1

    @frame1.setter
    def frame1(self, value: SegDataSample) -> None:
        self.set_field(value, '_frame1', dtype=SegDataSample)

    @frame1.deleter
    def frame1(self) -> None:
        del self._frame1

    @property
    def frame2(self) -> SegDataSample:
        return self._frame2

    @frame2.setter
    def frame2(self, value: SegDataSample) -> None:
        self.set_field(value, '_frame2', dtype=SegDataSample)

    @frame2.deleter
    def frame2(self) -> None:
        del self._frame2

    @property
    def frames(self) -> Tuple[SegDataSample, SegDataSample]:
        """Both per-frame samples, frame i first."""
        return self._frame1, self._frame2


def split_pair_samples(
        samples: List[PairDataSample]) -> List[SegDataSample]:
    """Per-frame samples of a batch of pairs, in the order the model stacks
    frames: ``[s.frame1 for s in samples] + [s.frame2 for s in samples]``.

    This matches a batch ``(B, 2, 3, H, W)`` reshaped as
    ``inputs.transpose(0, 1).reshape(2 * B, 3, H, W)``.
    """
    return [s.frame1 for s in samples] + [s.frame2 for s in samples]
