"""N datasets behind one index space, for a fixed per-batch source ratio.

:class:`MultiSourcePairDataset` concatenates its sources (source 0 holds
global indices ``[0, n0)``, source 1 ``[n0, n0 + n1)``, ...) and is meant to
be drawn by :class:`~efc_mm.datasets.samplers.MultiSourceSampler`, which
puts a fixed number of samples of each source into every batch (e.g. 2
labelled + 2 unlabelled pairs). Unlike mmengine's ``ConcatDataset`` it does
not require equal metainfo (a labelled and an unlabelled stream may differ
in anything but their classes) and reports the metainfo of source 0.
"""
import bisect
import copy
from typing import Any, List, Sequence, Tuple, Union

from mmengine.dataset.base_dataset import force_full_init
from torch.utils.data import Dataset

from ...registry import DATASETS


@DATASETS.register_module()
class MultiSourcePairDataset(Dataset):
    """Concatenation of ``sources`` that remembers which index is whose.

    Args:
        sources (list[dict | Dataset]): the source datasets, each a config
            dict (built with efc_mm's / mmseg's ``DATASETS``, each with its
            own ``pipeline``) or a built dataset. Order matters: it is the
            order of ``source_ratio`` in ``MultiSourceSampler``.
        lazy_init (bool): as mmengine's ``BaseDataset``: if True, the
            sources' ``full_init`` and the index ranges wait for
            :meth:`full_init` (called by the first ``len`` / item access).
            Defaults to False.

    Attributes:
        datasets (list): the built sources (``verify_dataset`` and other
            wrapper-aware code read them).
        cumulative_sizes (list[int]): end (exclusive) of each source's
            global range, as in ``torch.utils.data.ConcatDataset``.

    Raises:
        ValueError: no source, an empty source, or sources whose
            ``metainfo['classes']`` differ (a label id would mean two
            different classes in one batch).
    """

    def __init__(self, sources: Sequence[Union[dict, Any]],
                 lazy_init: bool = False) -> None:
        if isinstance(sources, (dict, str)) or not len(sources):
            raise ValueError('MultiSourcePairDataset needs a non-empty list '
                             f'of source datasets, got {sources!r}')
        self.datasets: List[Any] = [
            DATASETS.build(s) if isinstance(s, dict) else s for s in sources]
        self._metainfo = copy.deepcopy(
            getattr(self.datasets[0], 'metainfo', {}) or {})
        classes0 = self._metainfo.get('classes')
        for i, d in enumerate(self.datasets[1:], 1):
            classes = (getattr(d, 'metainfo', {}) or {}).get('classes')
            if classes0 and classes and tuple(classes) != tuple(classes0):
                raise ValueError(
                    f'MultiSourcePairDataset: source {i} '
                    f'({type(d).__name__}) has classes {tuple(classes)}, '
                    f'source 0 ({type(self.datasets[0]).__name__}) has '
                    f'{tuple(classes0)}; all sources must share one label '
                    'space')
        self.cumulative_sizes: List[int] = []
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """The metainfo of source 0 (a copy)."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Fully initialise every source and compute the index ranges."""
        if self._fully_initialized:
            return
        sizes = []
        for i, d in enumerate(self.datasets):
            if hasattr(d, 'full_init'):
                d.full_init()
            n = len(d)
            if n == 0:
                raise ValueError(
                    f'MultiSourcePairDataset: source {i} '
                    f'({type(d).__name__}) is empty; a source that is never '
                    'drawn cannot keep its share of the batches')
            sizes.append(n)
        total, cumulative = 0, []
        for n in sizes:
            total += n
            cumulative.append(total)
        self.cumulative_sizes = cumulative
        self._fully_initialized = True

    @property
    @force_full_init
    def source_sizes(self) -> List[int]:
        """Number of items of each source."""
        starts = [0] + self.cumulative_sizes[:-1]
        return [e - s for s, e in zip(starts, self.cumulative_sizes)]

    @property
    @force_full_init
    def source_ranges(self) -> List[range]:
        """Global index range of each source."""
        starts = [0] + self.cumulative_sizes[:-1]
        return [range(s, e) for s, e in zip(starts, self.cumulative_sizes)]

    @force_full_init
    def get_source_index(self, idx: int) -> Tuple[int, int]:
        """``(source, local index)`` of global index ``idx`` (negative
        indices count from the end)."""
        n = self.cumulative_sizes[-1]
        if idx < 0:
            idx += n
        if not 0 <= idx < n:
            raise IndexError(f'index {idx} out of range for a '
                             f'MultiSourcePairDataset of {n} items')
        source = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[source - 1] if source else 0
        return source, idx - start

    @force_full_init
    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        source, local = self.get_source_index(idx)
        return self.datasets[source][local]

    def get_data_info(self, idx: int) -> dict:
        """The source's data info of global index ``idx`` (pair datasets in
        train mode re-draw the pair at every call)."""
        source, local = self.get_source_index(idx)
        return self.datasets[source].get_data_info(local)

    def __repr__(self) -> str:
        parts = ', '.join(type(d).__name__ for d in self.datasets)
        sizes = self.source_sizes if self._fully_initialized else '?'
        return f'{type(self).__name__}(sources=[{parts}], sizes={sizes})'
