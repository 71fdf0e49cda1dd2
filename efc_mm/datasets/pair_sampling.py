"""What every pair dataset shares: file scanning, the per-call pair draw
(K pairs per snippet, M of them with the labelled frame, gap t drawn from
``[1, max_gap]``), the consecutive evaluation mode and the opt-in full scan
of the files (``verify=True``).

A *snippet* (an entry of ``data_list`` in train mode) is a dict with at
least ``start`` and ``end`` (inclusive frame numbers, consecutive frames)
and ``labelled_frame`` (a frame number in ``[start, end]``, or ``None`` for
an unlabelled snippet); ``name`` (optional) names it in errors. A dataset
using :class:`PairDrawMixin` implements ``_pair_info(snippet, f1, f2,
consecutive=False)`` (the data info of frames ``f1 < f2``) and, for
``verify``, ``_verify_groups()``.
"""
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import (Dict, Iterable, List, Optional, Sequence, Tuple, Union)

import numpy as np
import torch

#: modes of the pair datasets
PAIR_MODES = ('train', 'consecutive')


def scan_files(root: str, suffix: Union[str, Tuple[str, ...]]) -> List[str]:
    """Relative paths of the files under ``root`` ending in ``suffix`` (a
    string or a tuple of them; recursive, sorted, symlinks followed).

    Raises:
        FileNotFoundError: ``root`` is not a directory.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'data directory not found: {root}')
    out = []
    for dirpath, _, files in os.walk(root, followlinks=True):
        for f in files:
            if f.endswith(suffix):
                out.append(osp.relpath(osp.join(dirpath, f), root))
    return sorted(out)


def consecutive_runs(frames: Iterable[int],
                     min_len: int = 2) -> List[Tuple[int, int]]:
    """Maximal runs ``(first, last)`` of consecutive integers in ``frames``
    with at least ``min_len`` members, in increasing order."""
    frames = sorted(set(frames))
    runs = []
    if not frames:
        return runs
    start = prev = frames[0]
    for f in frames[1:] + [None]:
        if f is not None and f == prev + 1:
            prev = f
            continue
        if prev - start + 1 >= min_len:
            runs.append((start, prev))
        if f is not None:
            start = prev = f
    return runs


def resolve_mode(mode: Optional[str], test_mode: bool) -> str:
    """``mode`` checked, defaulting to ``'consecutive'`` when ``test_mode``
    and ``'train'`` otherwise."""
    mode = mode or ('consecutive' if test_mode else 'train')
    if mode not in PAIR_MODES:
        raise ValueError(f"mode must be 'train' or 'consecutive', "
                         f'got {mode!r}')
    return mode


class PairDrawMixin:
    """Pairs drawn afresh on every ``get_data_info`` call (train mode), with
    a fixed ``len(dataset)``.

    In train mode every ``data_list`` entry gives ``pairs_per_item`` items;
    item ``idx`` calls ``_draw_item(entry, idx % K, rng)`` on entry
    ``idx // K``. The default ``_draw_item`` draws a pair of a snippet
    (:meth:`_draw_pair`) and returns ``_pair_info(snippet, f1, f2)``. In
    consecutive mode ``data_list`` holds the pairs themselves.

    The generator is seeded from the item index, a per-instance call counter,
    the DataLoader worker's seed (torch draws a new base seed for the workers
    of every epoch) and one draw of ``np.random`` (seeded by mmengine), so
    runs are reproducible under a fixed seed yet differ across epochs, also
    with non-persistent workers that restart from a counter of 0.

    Attributes set by :meth:`_init_pair_draw`: ``mode``, ``pairs_per_item``
    and, for snippet draws, ``labelled_pairs`` (M) and ``max_gap``.
    """

    _draw_count = 0
    mode = 'train'
    pairs_per_item = 1

    def _init_pair_draw(self, mode: Optional[str], test_mode: bool,
                        pairs_per_item: int, labelled_pairs: int = 0,
                        max_gap: int = 1) -> None:
        """Check and set the sampling arguments (call before
        ``BaseSegDataset.__init__``). ``labelled_pairs`` is capped at
        ``pairs_per_item`` (so K = 1 alone means one labelled pair)."""
        if pairs_per_item < 1 or labelled_pairs < 0:
            raise ValueError(
                f'need pairs_per_snippet >= 1 and labelled_pairs >= 0, got '
                f'{pairs_per_item}, {labelled_pairs}')
        if max_gap < 1:
            raise ValueError(f'max_gap must be >= 1, got {max_gap}')
        self.mode = resolve_mode(mode, test_mode)
        self.pairs_per_item = pairs_per_item
        self.labelled_pairs = min(labelled_pairs, pairs_per_item)
        self.max_gap = max_gap

    def _draw_rng(self, idx: int) -> np.random.Generator:
        self._draw_count += 1
        info = torch.utils.data.get_worker_info()
        wseed = 0 if info is None else int(info.seed) % (2**32)
        return np.random.default_rng(
            [int(idx), self._draw_count, wseed,
             int(np.random.randint(2**31))])

    # --------------------------------------------------------- snippet draw
    def _draw_pair(self, sn: dict, slot: int,
                   rng: np.random.Generator) -> Tuple[int, int]:
        """Frames ``(f1, f2)``, ``f1 < f2``, of item ``slot`` of snippet
        ``sn``: slots ``< labelled_pairs`` contain the labelled frame (gap
        ``t ~ U[1, min(max_gap, span)]``, then the side), the others avoid
        it (``t`` first, then the position), anywhere in the snippet."""
        start, end, lab = sn['start'], sn['end'], sn['labelled_frame']
        span = end - start
        max_gap = min(self.max_gap, span)
        if lab is not None and slot < self.labelled_pairs:
            t = int(rng.integers(1, max_gap + 1))
            cands = [(f1, f1 + t) for f1 in (lab, lab - t)
                     if f1 >= start and f1 + t <= end]
            return cands[int(rng.integers(len(cands)))]
        cands = []
        for t in range(1, max_gap + 1):
            for f1 in range(start, end - t + 1):
                if lab is None or (f1 != lab and f1 + t != lab):
                    cands.append((f1, f1 + t))
        if not cands:  # a 2-frame snippet around the label: nothing else
            name = sn.get('name', f'{sn.get("city")}_{sn.get("seq")}')
            raise ValueError(f'snippet {name} ({start}..{end}) has no pair '
                             'without its labelled frame; lower '
                             'labelled_pairs')
        # draw t first (uniform over gaps), then the position
        t = int(rng.integers(1, max_gap + 1))
        by_gap = [c for c in cands if c[1] - c[0] == t] or cands
        return by_gap[int(rng.integers(len(by_gap)))]

    def _draw_item(self, entry: dict, slot: int,
                   rng: np.random.Generator) -> dict:
        """Data info of train item ``slot`` of ``entry`` (a snippet)."""
        f1, f2 = self._draw_pair(entry, slot, rng)
        return self._pair_info(entry, f1, f2)

    def _pair_info(self, sn: dict, f1: int, f2: int,
                   consecutive: bool = False) -> dict:
        raise NotImplementedError

    def _make_pair_info(self, img_paths: Sequence[str],
                        seg_paths: Sequence[Optional[str]],
                        frame_ids: Sequence[int], sequence: str,
                        frame_gap: Optional[int] = None,
                        label_map: Optional[dict] = None) -> dict:
        """The data info every pair transform reads (keys of
        :mod:`efc_mm.datasets.transforms.loading`): both frames, their label
        files (``None`` = unlabelled), ``frame_gap`` (default: the id
        difference), ``labelled``, ``sequence``, ``frame_ids`` and the label
        settings of the dataset."""
        return dict(
            img_path=img_paths[0], img2_path=img_paths[1],
            seg_map_path=seg_paths[0], seg_map2_path=seg_paths[1],
            frame_gap=(frame_ids[1] - frame_ids[0]
                       if frame_gap is None else frame_gap),
            labelled=(seg_paths[0] is not None, seg_paths[1] is not None),
            sequence=sequence, frame_ids=tuple(frame_ids),
            label_map=self.label_map if label_map is None else label_map,
            reduce_zero_label=self.reduce_zero_label,
            num_classes=len(self._metainfo['classes']),
            ignore_index=self.ignore_index, seg_fields=[])

    def _consecutive_pairs(self, snippets: Iterable[dict]) -> List[dict]:
        """Data infos of every pair ``(f, f + 1)`` of every snippet."""
        return [self._pair_info(sn, f, f + 1, consecutive=True)
                for sn in snippets for f in range(sn['start'], sn['end'])]

    # ------------------------------------------------------- dataset hooks
    def __len__(self) -> int:
        n = super().__len__()
        return n * self.pairs_per_item if self.mode == 'train' else n

    def get_data_info(self, idx: int) -> dict:
        """Train mode: draw a fresh item of entry ``idx // K``."""
        if self.mode != 'train':
            return super().get_data_info(idx)
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f'index {idx} out of range for {len(self)}')
        k = self.pairs_per_item
        entry = super().get_data_info(idx // k)
        info = self._draw_item(entry, idx % k, self._draw_rng(idx))
        info['sample_idx'] = idx
        return info

    # -------------------------------------------------------------- verify
    def _entries(self) -> List[dict]:
        """The ``data_list`` entries (snippets in train mode, pairs in
        consecutive mode), without drawing."""
        base = super(PairDrawMixin, self)
        return [base.get_data_info(i) for i in range(base.__len__())]

    def _verify_groups(self) -> Iterable[Tuple[str, List[str], List[str]]]:
        """``(name, image paths, label paths)`` of every group of files that
        must share one size: all frames and labels of one ``sequence`` (the
        frames any pair of it can draw). Override for entries that are not
        snippets."""
        if self.mode != 'train':
            return info_groups(self._entries())
        return info_groups(
            self._pair_info(entry, f, f + 1) for entry in self._entries()
            for f in range(entry['start'], entry['end']))

    def verification_problems(self, num_workers: int = 4) -> List[str]:
        """Read every image and label of the dataset once; the problems
        (see :func:`verify_file_groups`), each naming its file."""
        self.full_init()
        return verify_file_groups(
            self._verify_groups(),
            num_classes=len(self.metainfo.get('classes') or ()) or None,
            ignore_index=self.ignore_index,
            label_map=self.label_map,
            reduce_zero_label=self.reduce_zero_label,
            num_workers=num_workers)

    def verify(self, num_workers: int = 4) -> None:
        """Raise one :class:`DataVerificationError` listing every bad file
        (unreadable, size mismatch in a group, label out of range)."""
        problems = self.verification_problems(num_workers)
        if problems:
            raise DataVerificationError(type(self).__name__, problems)


def verify_dataset(dataset, num_workers: int = 4) -> None:
    """The full scan of any built segmentation dataset: the pair datasets'
    own groups, mmseg's single-frame datasets image by image (an image and
    its label), and the members of dataset wrappers (``ConcatDataset``,
    ``RepeatDataset``, ...).

    Raises:
        DataVerificationError: listing every bad file at once.
    """
    problems = _dataset_problems(dataset, num_workers)
    if problems:
        raise DataVerificationError(type(dataset).__name__, problems)


def _dataset_problems(dataset, num_workers: int) -> List[str]:
    if hasattr(dataset, 'verification_problems'):
        return dataset.verification_problems(num_workers)
    if hasattr(dataset, 'datasets'):        # ConcatDataset
        return [p for d in dataset.datasets
                for p in _dataset_problems(d, num_workers)]
    if hasattr(dataset, 'dataset'):         # RepeatDataset, ClassBalanced
        return _dataset_problems(dataset.dataset, num_workers)
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    if not infos:
        return []
    meta = getattr(dataset, 'metainfo', {}) or {}
    return verify_file_groups(
        info_groups(infos),
        num_classes=len(meta.get('classes') or ()) or None,
        ignore_index=getattr(dataset, 'ignore_index', 255),
        label_map=infos[0].get('label_map', getattr(dataset, 'label_map',
                                                    None)),
        reduce_zero_label=bool(infos[0].get(
            'reduce_zero_label', getattr(dataset, 'reduce_zero_label',
                                         False))),
        num_workers=num_workers)


def info_groups(infos: Iterable[dict]
                ) -> Iterable[Tuple[str, List[str], List[str]]]:
    """Data infos (single frames or pairs) grouped for
    :func:`verify_file_groups`: the images (``img_path``, ``img2_path``)
    and labels (``seg_map_path``, ``seg_map2_path``) of one ``sequence``
    share a size; an info without ``sequence`` is a group of its own."""
    groups: Dict[str, Tuple[set, set]] = {}
    for info in infos:
        seq = info.get('sequence')
        key = f'sequence {seq}' if seq is not None else \
            f'image {info["img_path"]}'
        imgs, labs = groups.setdefault(key, (set(), set()))
        imgs.update(p for p in (info.get('img_path'), info.get('img2_path'))
                    if p)
        labs.update(p for p in (info.get('seg_map_path'),
                                info.get('seg_map2_path')) if p)
    for name, (imgs, labs) in sorted(groups.items()):
        yield name, sorted(imgs), sorted(labs)


class DataLayoutError(ValueError):
    """Every problem of a dataset's files, in one error.

    Attributes:
        problems (list[str]): one line per problem, each naming the file.
    """

    def __init__(self, dataset: str, problems: Sequence[str],
                 what: str = 'found') -> None:
        self.problems = list(problems)
        lines = '\n'.join(f'  - {p}' for p in self.problems)
        super().__init__(f'{dataset}: {what} {len(self.problems)} '
                         f'problem(s):\n{lines}')


class DataVerificationError(DataLayoutError):
    """Every bad file found by the full scan (``verify=True``)."""

    def __init__(self, dataset: str, problems: Sequence[str]) -> None:
        super().__init__(dataset, problems,
                         'the full data scan (verify=True) found')


def image_size(path: str) -> Tuple[Optional[Tuple[int, int]], str]:
    """``((h, w), '')`` of an image from its header (Pillow, falling back to
    a full OpenCV decode), or ``(None, why)`` when it cannot be read."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            w, h = im.size
        return (int(h), int(w)), ''
    except Exception as e:  # noqa: BLE001 - any failure: try OpenCV
        import cv2
        img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if img is None:
            return None, (f'image {path} is unreadable (corrupt or not an '
                          f'image): {e}')
        return tuple(img.shape[:2]), ''


def _image_shape(path: str) -> Tuple[Optional[Tuple[int, int]], str]:
    """``((h, w), '')`` of a fully decoded image, or ``(None, why)``."""
    from .transforms.loading import load_image
    try:
        img = load_image(path, 'image', 'unchanged')
    except (OSError, ValueError) as e:
        return None, str(e)
    return tuple(img.shape[:2]), ''


def _label_shape(path: str, kwargs: dict
                 ) -> Tuple[Optional[Tuple[int, int]], str]:
    from .transforms.loading import load_seg_map
    try:
        seg = load_seg_map(path, **kwargs)
    except (OSError, ValueError) as e:
        return None, str(e)
    return tuple(seg.shape[:2]), ''


def verify_file_groups(groups: Iterable[Tuple[str, Sequence[str],
                                              Sequence[str]]],
                       num_classes: Optional[int] = None,
                       ignore_index: int = 255,
                       label_map: Optional[dict] = None,
                       reduce_zero_label: bool = False,
                       num_workers: int = 4) -> List[str]:
    """Decode every file once and list every problem.

    Args:
        groups: ``(name, image paths, label paths)``; all images and labels
            of a group must have one size (the frames of a pair, a frame and
            its label).
        num_classes (int, optional): label values must be ``<
            num_classes`` or ``ignore_index`` (after ``label_map`` /
            ``reduce_zero_label``, as the loader applies them).
        num_workers (int): decoding threads.

    Returns:
        list[str]: problems, each naming the file: missing, unreadable /
        corrupt, label values outside the classes, and size mismatches
        (the files whose size differs from the group's most common one).
    """
    groups = [(n, list(i), [s for s in l if s]) for n, i, l in groups]
    imgs = sorted({p for _, i, _ in groups for p in i})
    labs = sorted({p for _, _, l in groups for p in l})
    lab_kwargs = dict(label_map=label_map,
                      reduce_zero_label=reduce_zero_label,
                      num_classes=num_classes, ignore_index=ignore_index)
    with ThreadPoolExecutor(max(1, num_workers)) as pool:
        img_res = dict(zip(imgs, pool.map(_image_shape, imgs)))
        lab_res = dict(zip(labs, pool.map(
            lambda p: _label_shape(p, lab_kwargs), labs)))
    problems = [why for _, why in list(img_res.values()) +
                list(lab_res.values()) if why]
    for name, ipaths, lpaths in groups:
        shapes: Dict[str, Tuple[int, int]] = {}
        for p in ipaths:
            if img_res[p][0] is not None:
                shapes[p] = img_res[p][0]
        for p in lpaths:
            if lab_res[p][0] is not None:
                shapes[p] = lab_res[p][0]
        if len(set(shapes.values())) <= 1:
            continue
        counts: Dict[Tuple[int, int], int] = {}
        for s in shapes.values():
            counts[s] = counts.get(s, 0) + 1
        common = max(counts, key=lambda s: (counts[s], s))
        for p, s in shapes.items():
            if s != common:
                what = 'label' if p in lab_res else 'image'
                problems.append(
                    f'{what} {p} is {s[1]}x{s[0]} (WxH) but the other files '
                    f'of {name} are {common[1]}x{common[0]}')
    # one line per problem, in a stable order, without repeats
    return list(dict.fromkeys(problems))
