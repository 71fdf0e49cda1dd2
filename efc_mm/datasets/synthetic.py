"""Alias of :mod:`efc_synthetic`, the synthetic-world generator (it moved
to a top-level package that imports neither torch nor mmseg). New code
should import :mod:`efc_synthetic`."""
from efc_synthetic import *  # noqa: F401,F403
from efc_synthetic import __all__  # noqa: F401
