"""EFC losses (Ding et al., AAAI 2020), registered in mmseg's ``MODELS``.

* :class:`FeatureConsistencyLoss` eq. 2 (``loss_cons``, weight 10)
* :class:`OutputConsistencyLoss`: consistency of the logits with the
  warped, detached partner prediction (issue 18; ``loss_cons``, weight 0.1)
* :class:`OcclusionLoss` eq. 4 (``loss_occ``, weight 0.4)
* :class:`PhotometricLoss` eq. 5-6 (``loss_pm``, weight 1) and
  :func:`seg_occlusion_error` (``O_error``)
* :class:`SmoothnessLoss` eq. 7 (``loss_sm``, weight 0.5)

L_seg is the decode head's own ``CrossEntropyLoss`` (ignore index 255).
Every loss returns its weighted scalar, a mean over valid pixels.
"""
from .consistency_loss import FeatureConsistencyLoss
from .occlusion_loss import OcclusionLoss
from .output_consistency_loss import OutputConsistencyLoss
from .photometric_loss import PhotometricLoss, seg_occlusion_error
from .smoothness_loss import SmoothnessLoss
from .utils import valid_mean

__all__ = [
    'FeatureConsistencyLoss', 'OcclusionLoss', 'OutputConsistencyLoss',
    'PhotometricLoss', 'SmoothnessLoss', 'seg_occlusion_error', 'valid_mean'
]
