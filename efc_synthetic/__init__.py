"""Embedded synthetic street-video world with exact ground truth.

A procedural world of street snippets (sky, buildings, road, sidewalk,
vegetation, moving cars, pedestrians and cyclists as textured planar layers,
a camera with ego-motion and zoom, brightness change) rendered by backward
mapping, with *exact* forward/backward flow, occlusion masks and Cityscapes
train-id labels for every frame. It lets efc_mm train and test anywhere
without a download, and every metric has exact ground truth.

Public API:

* :func:`render_snippet` - one snippet in memory (arrays).
* :func:`generate_synthetic_world` - write a world in Cityscapes layout.
* :func:`ensure_synthetic_world` - the same, only if missing or different.

Command line: ``tools/dataset_converters/generate_synthetic_world.py``.
"""
from .classes import (CLASSES, IGNORE_INDEX, PALETTE, USED_TRAIN_IDS)
from .render import render_snippet
from .world import (GENERATOR_VERSION, ensure_synthetic_world,
                    generate_synthetic_world, snippet_files, world_meta)

__all__ = [
    'render_snippet', 'generate_synthetic_world', 'ensure_synthetic_world',
    'world_meta', 'snippet_files', 'CLASSES', 'PALETTE', 'USED_TRAIN_IDS',
    'IGNORE_INDEX', 'GENERATOR_VERSION', 'DEFAULT_ROOT'
]

#: default location of the world (relative to the working directory)
DEFAULT_ROOT = 'data/efc_synthetic'
