"""efc_mm: Every Frame Counts (AAAI 2020) for MMSegmentation.

Importing this package first applies :mod:`efc_mm.compat` (mmcv-lite and
torch >= 2.6 fixes), then registers every efc_mm module into mmseg's (and,
for flow-side modules, mmflow's) registries; see :mod:`efc_mm.registry`.
"""
from . import compat

compat.apply_all()

from .version import __version__  # noqa: E402

from . import structures  # noqa: E402,F401
from . import models  # noqa: E402,F401
from . import datasets  # noqa: E402,F401
from . import utils  # noqa: E402,F401
from . import evaluation  # noqa: E402,F401
from . import apis, engine, visualization  # noqa: E402,F401

__all__ = ['__version__', 'compat']
