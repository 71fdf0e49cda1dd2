"""Infinite sampler that puts a fixed number of samples of each source into
every batch (in the spirit of mmdet's semi-supervised
``MultiSourceSampler``).

With one stream of labelled and unlabelled snippets (``with_unlabelled``)
the share of labelled pairs in a batch falls with the amount of unlabelled
data: the unlabelled data *replaces* labels. With two sources in a
:class:`~efc_mm.datasets.wrappers.MultiSourcePairDataset` and
``source_ratio=[2, 2]`` every batch of 4 holds exactly 2 items of source 0
and 2 of source 1, whatever the sources' sizes: the unlabelled data is
*added* to the labels.
"""
import itertools
import sys
from typing import Iterator, List, Optional, Sequence, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import BatchSampler, Sampler

from ...registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class MultiSourceSampler(Sampler):
    """Infinite sampler over a multi-source dataset with a fixed number of
    samples per source in every batch.

    The indices come in batch order: each batch of ``batch_size`` is
    ``source_ratio[0]`` indices of source 0, then ``source_ratio[1]`` of
    source 1, and so on, so the dataloader's ``BatchSampler`` (its
    ``batch_size`` must equal this one; checked when iteration starts)
    cuts exactly these batches. Each source has its own infinite stream:
    a permutation of its items (a new one for each pass, i.e. each source
    is reshuffled per its own epoch), so every item of a source is drawn
    once per pass and a small source simply cycles faster. Infinite, like
    mmengine's ``InfiniteSampler``: use it with ``IterBasedTrainLoop``.

    Distributed: every rank builds the same per-source streams (same seed,
    see ``seed``) and rank ``r`` of ``W`` takes every ``W``-th element of
    each source's stream starting at ``r``, so within one pass of a source
    the ranks draw disjoint items and together the whole source;
    ``batch_size`` and ``source_ratio`` are per rank.

    Args:
        dataset (Sized): a dataset with ``cumulative_sizes`` (end of each
            source's global index range), e.g.
            :class:`~efc_mm.datasets.wrappers.MultiSourcePairDataset` (or a
            torch / mmengine ``ConcatDataset``).
        batch_size (int): samples per batch and rank; must equal the
            dataloader's ``batch_size``.
        source_ratio (Sequence[int]): samples of each source per batch, one
            positive int per source, summing to ``batch_size``.
        shuffle (bool): shuffle each pass of each source; if False the
            streams are ``0, 1, ..., n - 1`` repeated. Defaults to True.
        seed (int, optional): seed of the streams; None: a random seed
            shared by all ranks (``mmengine.dist.sync_random_seed``).

    Raises:
        ValueError: a ``source_ratio`` that does not match the sources (one
            entry each, all >= 1) or does not sum to ``batch_size``; when
            iteration starts, a ``BatchSampler`` whose ``batch_size``
            differs from ``batch_size``.
    """

    def __init__(self,
                 dataset: Sized,
                 batch_size: int,
                 source_ratio: Sequence[int],
                 shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(
                batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f'MultiSourceSampler: batch_size must be a '
                             f'positive int, got {batch_size!r}')
        ratio = list(source_ratio)
        if any(isinstance(r, bool) or not isinstance(r, (int, np.integer))
               for r in ratio):
            raise ValueError(f'MultiSourceSampler: source_ratio must be '
                             f'ints (samples of each source per batch), got '
                             f'{source_ratio!r}')
        if sum(ratio) != batch_size:
            raise ValueError(
                f'MultiSourceSampler: source_ratio {ratio} sums to '
                f'{sum(ratio)} but batch_size is {batch_size}; the ratio '
                'gives the number of samples of each source in a batch, so '
                'it must sum to batch_size')
        if hasattr(dataset, 'full_init'):
            dataset.full_init()
        cumulative = list(getattr(dataset, 'cumulative_sizes', None) or [])
        if not cumulative:
            raise ValueError(
                f'MultiSourceSampler needs a dataset with sources '
                f'(cumulative_sizes), e.g. MultiSourcePairDataset; got '
                f'{type(dataset).__name__}')
        if len(ratio) != len(cumulative):
            raise ValueError(
                f'MultiSourceSampler: source_ratio {ratio} has '
                f'{len(ratio)} entries but the dataset has '
                f'{len(cumulative)} sources')
        if min(ratio) < 1:
            raise ValueError(
                f'MultiSourceSampler: every entry of source_ratio {ratio} '
                'must be >= 1 (a source with 0 samples per batch is never '
                'drawn: remove it from the dataset instead)')
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.source_ratio: List[int] = [int(r) for r in ratio]
        self.cumulative_sizes = cumulative
        self.source_starts = [0] + cumulative[:-1]
        self.source_sizes = [e - s for s, e in
                             zip(self.source_starts, cumulative)]
        if min(self.source_sizes) < 1:
            raise ValueError(f'MultiSourceSampler: empty source (sizes '
                             f'{self.source_sizes})')
        self.shuffle = shuffle
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0

    # ------------------------------------------------------------ checks
    def check_batch_size(self, batch_size: int) -> None:
        """Raise a ValueError if a dataloader batch size ``batch_size``
        differs from this sampler's: its batches would straddle the
        per-source blocks and the ratio would be lost."""
        if batch_size != self.batch_size:
            raise ValueError(
                f'MultiSourceSampler: the dataloader batch_size '
                f'({batch_size}) differs from the sampler batch_size '
                f'({self.batch_size}, source_ratio {self.source_ratio}); set '
                'both to the same value')

    def _check_caller(self) -> None:
        """Best effort: when iterated by a ``BatchSampler`` (how a
        DataLoader with ``batch_size`` uses its sampler), check its
        ``batch_size`` (``check_batch_size``)."""
        try:
            owner = sys._getframe(2).f_locals.get('self')
        except (AttributeError, ValueError):  # not CPython / no caller
            return
        if isinstance(owner, BatchSampler) and owner.sampler is self:
            self.check_batch_size(owner.batch_size)

    # ----------------------------------------------------------- streams
    def _source_stream(self, source: int) -> Iterator[int]:
        """Infinite local indices of ``source``, the same on every rank:
        one permutation per pass (or ``range`` without shuffle)."""
        n = self.source_sizes[source]
        if not self.shuffle:
            while True:
                yield from range(n)
        rng = np.random.default_rng(
            [self.seed & 0xFFFFFFFFFFFFFFFF, self.epoch, source])
        while True:
            yield from rng.permutation(n).tolist()

    def _rank_stream(self, source: int) -> Iterator[int]:
        """This rank's share of ``source``'s stream (every ``W``-th item
        from position ``rank``), as global indices."""
        start = self.source_starts[source]
        return (start + i for i in itertools.islice(
            self._source_stream(source), self.rank, None, self.world_size))

    def _indices(self) -> Iterator[int]:
        streams = [self._rank_stream(s) for s in range(len(self.source_sizes))]
        blocks = list(zip(streams, self.source_ratio))
        while True:
            for stream, k in blocks:
                yield from itertools.islice(stream, k)

    def __iter__(self) -> Iterator[int]:
        """A fresh stream for the current (seed, epoch): indices in batch
        order, without end."""
        self._check_caller()
        return self._indices()

    def __len__(self) -> int:
        """Size of the dataset (as mmengine's ``InfiniteSampler``; the
        iteration never ends)."""
        return self.cumulative_sizes[-1]

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch: the streams of the next ``__iter__`` are drawn
        with ``(seed, epoch)``. (An iteration-based loop iterates once and
        never needs it.)"""
        self.epoch = int(epoch)
