"""Re-export of :mod:`efc_mm.testing` for tests written against the old
module name; new code imports ``efc_mm.testing`` (tests and benches share
the package, not each other's files)."""
from efc_mm.testing import (BN, TINY_FLOW, model_bases_dir,  # noqa: F401
                            pair_batch, plain_cfg, tiny_model_cfg)

from conftest import REPO_ROOT as REPO  # noqa: F401

BASES = model_bases_dir()
