"""Embedded synthetic street-video world with exact ground truth.

A procedural world of street snippets (sky, buildings, road, sidewalk,
vegetation, moving cars, pedestrians and cyclists as textured planar layers,
a camera with ego-motion and zoom, brightness change) rendered by backward
mapping, with *exact* forward/backward flow, occlusion masks and Cityscapes
train-id labels for every frame. It lets efc_mm train and test anywhere
without a download, and every metric has exact ground truth.

This package needs only numpy and OpenCV: it imports neither torch nor
mmseg nor efc_mm (so the command line starts in a fraction of a second).
It ships in the ``efc_mm`` distribution; the datasets that read a world
(``SyntheticWorldPairDataset``, ``SyntheticWorldDataset``) are in
:mod:`efc_mm.datasets.synthetic_world`. Earlier releases called it
``efc_mm.datasets.synthetic``; that name stays as an alias, and worlds whose
``meta.json`` names it are accepted unchanged.

Public API:

* :func:`render_snippet` - one snippet in memory (arrays).
* :func:`generate_synthetic_world` - write a world in Cityscapes layout.
* :func:`ensure_synthetic_world` - the same, only if missing or different.
* :func:`write_flow_kitti` - the KITTI 16-bit flow PNG writer it uses.

Command line: ``tools/dataset_converters/generate_synthetic_world.py``.
"""
from .classes import (CLASSES, IGNORE_INDEX, PALETTE, USED_TRAIN_IDS)
from .flow_png import write_flow_kitti
from .render import render_snippet
from .world import (GENERATOR_VERSION, ensure_synthetic_world,
                    generate_synthetic_world, snippet_files, world_meta)

__all__ = [
    'render_snippet', 'generate_synthetic_world', 'ensure_synthetic_world',
    'world_meta', 'snippet_files', 'CLASSES', 'PALETTE', 'USED_TRAIN_IDS',
    'IGNORE_INDEX', 'GENERATOR_VERSION', 'DEFAULT_ROOT', 'write_flow_kitti'
]

#: default location of the world (relative to the working directory)
DEFAULT_ROOT = 'data/efc_synthetic'
