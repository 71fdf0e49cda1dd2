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
import inspect
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
        labelled (bool): False: an unlabelled-only source (e.g. the second
            stream of a ``MultiSourcePairDataset``): ``seg_map_path`` and
            ``seq_seg_map_path`` are dropped from ``data_prefix`` and
            ``with_unlabelled`` is implied, so every snippet of
            ``img_path`` (and ``unlabelled_img_path``) gives
            ``pairs_per_snippet`` pairs whose two frames are unlabelled
            (label maps all 255, ``labelled=(False, False)``).
            Defaults to True.
        unlabelled_world (dict, optional): a second world whose train
            snippets are the unlabelled data of ``with_unlabelled`` (UD):
            ``dict(root=..., **generator settings)``, generated on first use
            like ``world`` (only when ``with_unlabelled``); point ``data_prefix.unlabelled_img_path`` at its
            ``leftImg8bit_sequence/train`` (relative to ``data_root``).
        **kwargs: as :class:`CityscapesSequencePairDataset`.
    """

    def __init__(self, world: Optional[dict] = None, labelled: bool = True,
                 unlabelled_world: Optional[dict] = None, **kwargs) -> None:
        prepare_world(kwargs.get('data_root', ''), world)
        if unlabelled_world is not None and kwargs.get('with_unlabelled'):
            extra = dict(unlabelled_world)
            prepare_world(extra.pop('root', ''), extra)
        if not labelled:
            if kwargs.get('with_unlabelled') is False:
                raise ValueError('labelled=False (an unlabelled-only source)'
                                 ' implies with_unlabelled=True; do not set '
                                 'with_unlabelled=False')
            prefix = dict(kwargs.get('data_prefix') or inspect.signature(
                CityscapesSequencePairDataset.__init__).parameters[
                    'data_prefix'].default)
            prefix.pop('seg_map_path', None)
            prefix.pop('seq_seg_map_path', None)
            kwargs.update(data_prefix=prefix, with_unlabelled=True)
        self.labelled = labelled
        super().__init__(**kwargs)


@DATASETS.register_module()
class SyntheticWorldDataset(CityscapesDataset):
    """mmseg's single-frame :class:`CityscapesDataset` on the synthetic
    world (frame ``000019`` of each snippet), generating it first if needed.
    """

    def __init__(self, world: Optional[dict] = None, **kwargs) -> None:
        prepare_world(kwargs.get('data_root', ''), world)
        super().__init__(**kwargs)
