"""Helpers shared by efc_mm's tests and benchmarks (not imported by
``import efc_mm``): tiny model configs built from the real config bases and
synthetic pair batches (:mod:`efc_mm.testing.models`).

``tests/`` and ``bench/`` both import this package instead of each other.
"""
from .models import (BN, TINY_FLOW, model_bases_dir, pair_batch, plain_cfg,
                     sync_bn_to_bn, tiny_model_cfg)

__all__ = ['BN', 'TINY_FLOW', 'model_bases_dir', 'tiny_model_cfg',
           'plain_cfg', 'pair_batch', 'sync_bn_to_bn']
