"""Which registry is which.

efc_mm adds no registry of its own. Everything is registered into the
registries of the library it extends, so configs keep ``default_scope='mmseg'``
exactly as every mmseg config does:

=====================  ======================================================
name here              what goes in it
=====================  ======================================================
``MODELS``             mmseg's MODELS: the EFC segmentor, the data
                       preprocessor, backbones, heads, the flow decoder and
                       every EFC loss (built by configs in scope ``mmseg``).
``FLOW_MODELS``        mmflow's MODELS: flow-side modules (the flow decoder)
                       are *also* registered here, so mmflow configs can use
                       them (``type='mmflow.EFCFlowDecoder'`` from mmseg scope).
``DATASETS``           mmseg's DATASETS: video pair datasets and the
                       ``MultiSourcePairDataset`` wrapper.
``DATA_SAMPLERS``      mmseg's DATA_SAMPLERS (a child of mmengine's, where
                       the Runner builds ``sampler=dict(type=...)`` in scope
                       ``mmseg``): ``MultiSourceSampler``.
``TRANSFORMS``         mmseg's TRANSFORMS: pair transforms and packing.
``METRICS``            mmseg's METRICS: flow EPE / Fl and temporal consistency.
``FLOW_METRICS``       mmflow's METRICS: the flow metrics are also here.
``HOOKS``              mmseg's HOOKS: visualisation hook.
``VISUALIZERS``        mmseg's VISUALIZERS.
``WEIGHT_INITIALIZERS`` mmseg's WEIGHT_INITIALIZERS: ``PretrainedPart``.
=====================  ======================================================

Import this module only after :mod:`efc_mm.compat` (``import efc_mm`` does
that), because importing mmflow's registry pulls in ``mmcv.ops``.
"""
from mmseg.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS
from mmseg.registry import DATA_SAMPLERS  # noqa: F401
from mmseg.registry import VISUALIZERS  # noqa: F401
from mmseg.registry import WEIGHT_INITIALIZERS  # noqa: F401

from mmflow.registry import METRICS as FLOW_METRICS  # noqa: E402
from mmflow.registry import MODELS as FLOW_MODELS  # noqa: E402

__all__ = [
    'MODELS', 'FLOW_MODELS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS',
    'METRICS',
    'FLOW_METRICS', 'HOOKS', 'VISUALIZERS', 'WEIGHT_INITIALIZERS'
]
