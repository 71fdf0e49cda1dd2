"""Datasets (registered in mmseg's DATASETS) and pair transforms.

* :class:`CityscapesSequencePairDataset`: pairs of Cityscapes-layout
  snippets (real Cityscapes sequences and the synthetic world).
* :class:`CamVidVideoDataset` / :class:`CamVidDataset`: CamVid pairs and
  single frames (SegNet layout).
* :class:`KITTIFlowPairDataset`: KITTI unsupervised training pairs and
  KITTI 2015 flow evaluation.
* :mod:`.transforms`: pair loading, consistent pair geometry, packing.
* :mod:`.synthetic`: the synthetic world generator (when present).
"""
import importlib.util as _ilu

from . import transforms  # noqa: F401
from .camvid_video import CamVidDataset, CamVidVideoDataset
from .cityscapes_sequence import CityscapesSequencePairDataset
from .kitti_flow import KITTIFlowPairDataset

__all__ = [
    'CityscapesSequencePairDataset', 'CamVidVideoDataset', 'CamVidDataset',
    'KITTIFlowPairDataset', 'transforms'
]

# the world generator is written in parallel: import it once it exists
if _ilu.find_spec(__name__ + '.synthetic') is not None:
    from . import synthetic  # noqa: F401,E402
    __all__.append('synthetic')
