"""Datasets over the embedded synthetic world that generate it on first use.

They are :class:`CityscapesSequencePairDataset` / mmseg's
:class:`CityscapesDataset` with one extra argument, ``world``: the keyword
arguments of :func:`efc_synthetic.generate_synthetic_world`. On
construction the world at ``data_root`` is generated if it is missing or was
made with other settings (``ensure_synthetic_world``: idempotent, written to
a temporary folder and renamed, so an interrupted run never leaves a world
that looks complete). Under torch.distributed only rank 0 generates; the
other ranks wait at a barrier.
"""
import os.path as osp
from typing import Optional

from mmseg.datasets import CityscapesDataset

from ..registry import DATASETS
from .cityscapes_sequence import CityscapesSequencePairDataset


def prepare_world(data_root: str, world: Optional[dict]) -> None:
    """Make sure the synthetic world described by ``world`` is at
    ``data_root`` (no-op when ``world`` is None)."""
    if world is None:
        return
    if not data_root:
        raise ValueError('a synthetic-world dataset needs `data_root` (where '
                         'the world is, or is to be generated)')
    from mmengine.dist import barrier, get_dist_info

    from efc_synthetic import ensure_synthetic_world
    rank, world_size = get_dist_info()
    if rank == 0:
        ensure_synthetic_world(osp.expanduser(data_root), **world)
    if world_size > 1:
        barrier()


@DATASETS.register_module()
class SyntheticWorldPairDataset(CityscapesSequencePairDataset):
    """:class:`CityscapesSequencePairDataset` on the synthetic world,
    generating it first if needed.

    Args:
        world (dict, optional): generator settings, e.g.
            ``dict(num_train_snippets=24, num_val_snippets=4, height=128,
            width=256, seed=0)``. None: the world must already exist.
        **kwargs: as :class:`CityscapesSequencePairDataset`.
    """

    def __init__(self, world: Optional[dict] = None, **kwargs) -> None:
        prepare_world(kwargs.get('data_root', ''), world)
        super().__init__(**kwargs)


@DATASETS.register_module()
class SyntheticWorldDataset(CityscapesDataset):
    """mmseg's single-frame :class:`CityscapesDataset` on the synthetic
    world (frame ``000019`` of each snippet), generating it first if needed.
    """

    def __init__(self, world: Optional[dict] = None, **kwargs) -> None:
        prepare_world(kwargs.get('data_root', ''), world)
        super().__init__(**kwargs)
