"""Datasets (registered in mmseg's DATASETS) and pair transforms.

* :class:`CityscapesSequencePairDataset`: pairs of Cityscapes-layout
  snippets (real Cityscapes sequences and the synthetic world).
* :class:`CamVidVideoDataset` / :class:`CamVidDataset`: CamVid pairs and
  single frames (SegNet layout); :func:`apply_label_split` writes a
  config's ``label_split`` into its train and evaluation datasets.
* :class:`KITTIFlowPairDataset`: KITTI unsupervised training pairs and
  KITTI 2015 flow evaluation.
* :class:`VideoFramesPairDataset`: your own clips (folders of frames, a few
  labelled).
* :mod:`.pair_sampling`: what they share (``PairDrawMixin``, ``scan_files``,
  the ``verify=True`` full scan).
* :mod:`.transforms`: pair loading, consistent pair geometry, packing.
* :class:`MultiSourcePairDataset` (:mod:`.wrappers`) and
  :class:`MultiSourceSampler` (:mod:`.samplers`): N source datasets with a
  fixed number of samples of each in every batch (e.g. labelled +
  unlabelled pairs at 2:2).
* :mod:`.synthetic`: the synthetic world generator;
  :class:`SyntheticWorldPairDataset` / :class:`SyntheticWorldDataset`
  generate it on first use.
"""
from . import transforms  # noqa: F401
from .camvid_video import (CamVidDataset, CamVidVideoDataset,
                           apply_label_split, check_label_split)
from .cityscapes_sequence import CityscapesSequencePairDataset
from .kitti_flow import KITTIFlowPairDataset
from .pair_sampling import (DataLayoutError, DataVerificationError,
                            PairDrawMixin, scan_files, verify_dataset)
from .samplers import MultiSourceSampler
from .synthetic_world import (SyntheticWorldDataset,
                              SyntheticWorldPairDataset)
from .video_frames import VideoFramesPairDataset
from .wrappers import MultiSourcePairDataset

__all__ = [
    'CityscapesSequencePairDataset', 'CamVidVideoDataset', 'CamVidDataset',
    'KITTIFlowPairDataset', 'SyntheticWorldPairDataset',
    'SyntheticWorldDataset', 'VideoFramesPairDataset', 'PairDrawMixin',
    'scan_files', 'verify_dataset', 'DataLayoutError',
    'DataVerificationError', 'transforms', 'MultiSourcePairDataset',
    'MultiSourceSampler', 'apply_label_split', 'check_label_split'
]
