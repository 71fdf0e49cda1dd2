"""Pairs of frames from Cityscapes-layout video snippets.

Works on the real Cityscapes ``leftImg8bit_sequence`` + ``gtFine`` and on
efc_mm's synthetic world (same layout, see ``docs/design.md``)::

    {img_path}/{city}/{city}_{seq:06d}_{frame:06d}_leftImg8bit.png
    {seg_map_path}/{city}/{city}_{seq:06d}_{frame:06d}_gtFine_labelTrainIds.png
    {seq_seg_map_path}/...  (gtFine_sequence: labels of every frame)
    {flow_occ_path}/{city}/{stem}_flow_fw.png, {stem}_flow_bw.png
    {flow_noc_path}/...   (same names), {occ_path}/{stem}_occ_fw.png, _bw

A *snippet* is the ``frames_per_snippet`` frames around a labelled frame L
(a ``gtFine`` file): ``[L - labelled_index, L - labelled_index +
frames_per_snippet - 1]`` (Cityscapes: 30 frames, the 20th labelled, i.e.
``labelled_index=19``). Every frame of a labelled snippet must be on disk;
a missing one is refused when the dataset is built, naming the file.
"""
import os
import os.path as osp
import re
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmseg.datasets import BaseSegDataset, CityscapesDataset

from ..registry import DATASETS

_STEM_RE = re.compile(r'^(?P<city>.+)_(?P<seq>\d+)_(?P<frame>\d+)$')


def scan_files(root: str, suffix: str) -> List[str]:
    """Relative paths of the files under ``root`` ending in ``suffix``
    (recursive, sorted). Raises if ``root`` is not a directory."""
    if not osp.isdir(root):
        raise FileNotFoundError(f'data directory not found: {root}')
    out = []
    for dirpath, _, files in os.walk(root, followlinks=True):
        for f in files:
            if f.endswith(suffix):
                out.append(osp.relpath(osp.join(dirpath, f), root))
    return sorted(out)


class PairDrawMixin:
    """A per-call random generator for datasets that draw their pairs in
    ``get_data_info``: the draws change on every call (epoch / iteration)
    while ``len(dataset)`` stays fixed.

    The generator is seeded from the item index, a per-instance call counter,
    the DataLoader worker's seed (torch draws a new base seed for the workers
    of every epoch) and one draw of ``np.random`` (seeded by mmengine), so
    runs are reproducible under a fixed seed yet differ across epochs, also
    with non-persistent workers that restart from a counter of 0.
    """

    _draw_count = 0

    def _draw_rng(self, idx: int) -> np.random.Generator:
        self._draw_count += 1
        info = torch.utils.data.get_worker_info()
        wseed = 0 if info is None else int(info.seed) % (2**32)
        return np.random.default_rng(
            [int(idx), self._draw_count, wseed,
             int(np.random.randint(2**31))])


def _stem_info(rel: str, suffix: str) -> Tuple[str, str, int, int, str]:
    """``(rel_dir, city, seq, frame, seq_str)`` of a relative file path."""
    rel_dir, name = osp.split(rel)
    stem = name[:-len(suffix)]
    m = _STEM_RE.match(stem)
    if m is None:
        raise ValueError(
            f'{rel}: file name does not match '
            f'"{{city}}_{{seq:06d}}_{{frame:06d}}{suffix}"')
    return (rel_dir, m['city'], int(m['seq']), int(m['frame']), m['seq'])


@DATASETS.register_module()
class CityscapesSequencePairDataset(PairDrawMixin, BaseSegDataset):
    """Pairs of nearby frames of Cityscapes-layout snippets (EFC training,
    flow / temporal-consistency evaluation).

    Modes:

    * ``'train'``: every snippet gives ``pairs_per_snippet`` (K) items,
      ``len = K * num_snippets``. Item ``k`` of a labelled snippet contains
      the labelled frame when ``k < labelled_pairs`` (M) and does not
      contain it otherwise; the gap t is drawn from ``[1, max_gap]`` and the
      pair (positions, gap) is **re-drawn at every access**. The label
      travels with whichever frame is the labelled one; the other frame's
      label is all 255. Unlabelled snippets (``with_unlabelled``) give K
      pairs anywhere in the snippet, both frames unlabelled.
      ``single_pair=True`` (TCC_single) means K = M = 1.
    * ``'consecutive'``: deterministic, every pair ``(f, f + 1)`` of every
      snippet, with ground-truth flow / occlusion (when the directories are
      given: ``gt_flow_fw`` from ``{f}_flow_fw``, ``gt_flow_bw`` from
      ``{f+1}_flow_bw`` of ``flow_occ``; occlusion = valid in ``flow_occ``
      and not in ``flow_noc``, else from the ``occlusion`` PNGs) and labels
      of both frames from ``gtFine_sequence`` (``seq_seg_map_path``; every
      frame must have one) or else ``gtFine`` for the labelled frame.
      Default when ``test_mode=True``.

    Args:
        data_root (str): dataset root.
        data_prefix (dict): directories (relative to ``data_root``):
            ``img_path`` (``leftImg8bit_sequence/{split}``, required),
            ``seg_map_path`` (``gtFine/{split}``, defines the labelled
            frames), optional ``seq_seg_map_path`` (``gtFine_sequence``),
            ``flow_occ_path``, ``flow_noc_path``, ``occ_path`` (consecutive
            mode) and ``unlabelled_img_path`` (e.g. another sequence
            directory, used with ``with_unlabelled``).
        pairs_per_snippet (int): K, paper 10.
        labelled_pairs (int): M, paper 5; capped at K (so
            ``pairs_per_snippet=1`` gives one labelled pair per snippet).
        max_gap (int): t is drawn from ``[1, max_gap]``, paper 5.
        with_unlabelled (bool): add unlabelled snippets: runs of sequence
            frames outside every labelled snippet (in ``img_path``, e.g.
            snippets whose labelled frame has no gtFine) and every run in
            ``unlabelled_img_path``.
        single_pair (bool): TCC_single, one labelled pair per snippet.
        frames_per_snippet (int): Defaults to 30.
        labelled_index (int): index of the labelled frame in a snippet.
            Defaults to 19.
        mode (str, optional): ``'train'`` or ``'consecutive'``; default
            ``'consecutive'`` if ``test_mode`` else ``'train'``.
        img_suffix (str): Defaults to ``'_leftImg8bit.png'``.
        seg_map_suffix (str): Defaults to ``'_gtFine_labelTrainIds.png'``.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments.

    Data info of an item (read by the pair transforms): ``img_path``,
    ``img2_path``, ``seg_map_path``, ``seg_map2_path`` (``None`` =
    unlabelled), ``frame_gap``, ``labelled``, ``sequence``, ``frame_ids``,
    ``num_classes``, ``ignore_index``, ``label_map``,
    ``reduce_zero_label``, ``seg_fields``, and in consecutive mode the flow
    / occlusion paths (see :mod:`efc_mm.datasets.transforms.loading`).
    """

    METAINFO = CityscapesDataset.METAINFO

    def __init__(self,
                 data_root: Optional[str] = None,
                 data_prefix: dict = dict(
                     img_path='leftImg8bit_sequence/train',
                     seg_map_path='gtFine/train'),
                 pairs_per_snippet: int = 10,
                 labelled_pairs: int = 5,
                 max_gap: int = 5,
                 with_unlabelled: bool = False,
                 single_pair: bool = False,
                 frames_per_snippet: int = 30,
                 labelled_index: int = 19,
                 mode: Optional[str] = None,
                 img_suffix: str = '_leftImg8bit.png',
                 seg_map_suffix: str = '_gtFine_labelTrainIds.png',
                 test_mode: bool = False,
                 **kwargs) -> None:
        if single_pair:
            pairs_per_snippet, labelled_pairs = 1, 1
        if pairs_per_snippet < 1 or labelled_pairs < 0:
            raise ValueError(
                f'need pairs_per_snippet >= 1 and labelled_pairs >= 0, got '
                f'{pairs_per_snippet}, {labelled_pairs}')
        # M is capped at K: pairs_per_snippet=1 alone means TCC_single
        labelled_pairs = min(labelled_pairs, pairs_per_snippet)
        if max_gap < 1 or max_gap >= frames_per_snippet:
            raise ValueError(f'max_gap must be in [1, frames_per_snippet - '
                             f'1], got {max_gap}')
        if not 0 <= labelled_index < frames_per_snippet:
            raise ValueError(f'labelled_index {labelled_index} outside a '
                             f'snippet of {frames_per_snippet} frames')
        mode = mode or ('consecutive' if test_mode else 'train')
        if mode not in ('train', 'consecutive'):
            raise ValueError(f"mode must be 'train' or 'consecutive', "
                             f'got {mode!r}')
        self.mode = mode
        self.pairs_per_snippet = pairs_per_snippet
        self.labelled_pairs = labelled_pairs
        self.max_gap = max_gap
        self.with_unlabelled = with_unlabelled
        self.single_pair = single_pair
        self.frames_per_snippet = frames_per_snippet
        self.labelled_index = labelled_index
        super().__init__(
            data_root=data_root, data_prefix=data_prefix,
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
            test_mode=test_mode, **kwargs)

    # ------------------------------------------------------------------ scan
    def _frame_path(self, root: str, rel_dir: str, city: str, seq: str,
                    frame: int, suffix: str) -> str:
        return osp.join(root, rel_dir,
                        f'{city}_{seq}_{frame:06d}{suffix}')

    def _runs(self, root: str, exclude: set) -> List[dict]:
        """Unlabelled snippets: maximal runs of consecutive frames (>= 2) of
        one (dir, city, seq) in ``root``, skipping frames in ``exclude``."""
        groups: Dict[tuple, List[int]] = defaultdict(list)
        for rel in scan_files(root, self.img_suffix):
            rel_dir, city, _, frame, seq_s = _stem_info(rel, self.img_suffix)
            if (root, rel_dir, city, seq_s, frame) in exclude:
                continue
            groups[(rel_dir, city, seq_s)].append(frame)
        snippets = []
        for (rel_dir, city, seq_s), frames in sorted(groups.items()):
            frames.sort()
            start = prev = frames[0]
            for f in frames[1:] + [None]:
                if f is not None and f == prev + 1:
                    prev = f
                    continue
                if prev > start:
                    snippets.append(dict(
                        img_root=root, rel_dir=rel_dir, city=city,
                        seq=seq_s, start=start, end=prev,
                        labelled_frame=None))
                if f is not None:
                    start = prev = f
        return snippets

    def load_data_list(self) -> List[dict]:
        """Scan the directories into snippets (train mode) or consecutive
        pairs (consecutive mode)."""
        img_root = self.data_prefix.get('img_path')
        seg_root = self.data_prefix.get('seg_map_path')
        if not img_root:
            raise ValueError("data_prefix['img_path'] (the sequence frames "
                             'directory) is required')
        if not osp.isdir(img_root):
            raise FileNotFoundError(
                f'sequence frame directory not found: {img_root}')
        available = set(scan_files(img_root, self.img_suffix))
        snippets, used = [], set()
        if seg_root:
            for rel in scan_files(seg_root, self.seg_map_suffix):
                rel_dir, city, _, lab, seq_s = _stem_info(
                    rel, self.seg_map_suffix)
                start = lab - self.labelled_index
                end = start + self.frames_per_snippet - 1
                missing = []
                for f in range(start, end + 1):
                    frel = osp.join(rel_dir,
                                    f'{city}_{seq_s}_{f:06d}{self.img_suffix}')
                    if frel not in available:
                        missing.append(osp.join(img_root, frel))
                    used.add((img_root, rel_dir, city, seq_s, f))
                if missing:
                    raise FileNotFoundError(
                        f'snippet of labelled frame {osp.join(seg_root, rel)}'
                        f' misses {len(missing)} of its '
                        f'{self.frames_per_snippet} frames, e.g. '
                        f'{missing[0]} (frames {start}..{end} expected)')
                snippets.append(dict(
                    img_root=img_root, rel_dir=rel_dir, city=city, seq=seq_s,
                    start=start, end=end, labelled_frame=lab,
                    seg_path=osp.join(seg_root, rel)))
        if self.with_unlabelled:
            n = len(snippets)
            snippets += self._runs(img_root, used)
            extra = self.data_prefix.get('unlabelled_img_path')
            if extra:
                snippets += self._runs(extra, set())
            if len(snippets) == n:
                # an unlabelled-data run that silently adds nothing would
                # train exactly like the row without it: refuse
                raise ValueError(
                    f'with_unlabelled=True but no unlabelled snippet was '
                    f'found (every run of frames in {img_root} belongs to a '
                    "labelled snippet; set data_prefix['unlabelled_img_path']"
                    ' to a directory of extra sequences, e.g. '
                    "'leftImg8bit_sequence/test' for Cityscapes)")
        if not snippets:
            raise ValueError(
                f'no snippets found: no labelled frames '
                f'({self.seg_map_suffix} under {seg_root}) and '
                f'with_unlabelled={self.with_unlabelled} found no runs of '
                f'frames under {img_root}')
        if self.mode == 'train':
            return snippets
        seq_seg_root = self.data_prefix.get('seq_seg_map_path')
        if seq_seg_root and not osp.isdir(seq_seg_root):
            raise FileNotFoundError(
                f'gtFine_sequence directory not found: {seq_seg_root}')
        pairs = []
        for sn in snippets:
            for f in range(sn['start'], sn['end']):
                pairs.append(self._pair_info(sn, f, f + 1, consecutive=True))
        return pairs

    # ----------------------------------------------------------------- pairs
    def _pair_info(self, sn: dict, f1: int, f2: int,
                   consecutive: bool = False) -> dict:
        """Data info of the pair (f1, f2) of snippet ``sn``."""
        frame_path = self._frame_path
        img_root, rel_dir = sn['img_root'], sn['rel_dir']
        city, seq = sn['city'], sn['seq']
        lab = sn['labelled_frame']
        seq_seg_root = self.data_prefix.get('seq_seg_map_path') \
            if consecutive else None
        segs = []
        for f in (f1, f2):
            if seq_seg_root and lab is not None:
                segs.append(frame_path(seq_seg_root, rel_dir, city, seq, f,
                                       self.seg_map_suffix))
            elif lab is not None and f == lab:
                segs.append(sn['seg_path'])
            else:
                segs.append(None)
        info = dict(
            img_path=frame_path(img_root, rel_dir, city, seq, f1,
                                self.img_suffix),
            img2_path=frame_path(img_root, rel_dir, city, seq, f2,
                                 self.img_suffix),
            seg_map_path=segs[0], seg_map2_path=segs[1],
            frame_gap=f2 - f1,
            labelled=(segs[0] is not None, segs[1] is not None),
            sequence=f'{city}_{seq}', frame_ids=(f1, f2),
            label_map=self.label_map,
            reduce_zero_label=self.reduce_zero_label,
            num_classes=len(self._metainfo['classes']),
            ignore_index=self.ignore_index, seg_fields=[])
        if consecutive and img_root == self.data_prefix.get('img_path'):
            stem1 = f'{city}_{seq}_{f1:06d}'
            stem2 = f'{city}_{seq}_{f2:06d}'
            for key, root_key, suffix in (
                    ('flow', 'flow_occ_path', '_flow_{}.png'),
                    ('flow_noc', 'flow_noc_path', '_flow_{}.png'),
                    ('occ', 'occ_path', '_occ_{}.png')):
                root = self.data_prefix.get(root_key)
                if not root:
                    continue
                info[f'{key}_fw_path'] = osp.join(
                    root, rel_dir, stem1 + suffix.format('fw'))
                info[f'{key}_bw_path'] = osp.join(
                    root, rel_dir, stem2 + suffix.format('bw'))
        return info

    def _draw_pair(self, sn: dict, slot: int,
                   rng: np.random.Generator) -> Tuple[int, int]:
        """Frames (f1 < f2) of item ``slot`` of snippet ``sn``."""
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
            raise ValueError(f'snippet {sn["city"]}_{sn["seq"]} '
                             f'({start}..{end}) has no pair without its '
                             'labelled frame; lower labelled_pairs')
        # draw t first (uniform over gaps), then the position
        t = int(rng.integers(1, max_gap + 1))
        by_gap = [c for c in cands if c[1] - c[0] == t] or cands
        return by_gap[int(rng.integers(len(by_gap)))]

    def __len__(self) -> int:
        n = super().__len__()
        return n * self.pairs_per_snippet if self.mode == 'train' else n

    def get_data_info(self, idx: int) -> dict:
        """Train mode: draw a fresh pair of snippet ``idx // K``."""
        if self.mode != 'train':
            return super().get_data_info(idx)
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f'index {idx} out of range for {len(self)}')
        k = self.pairs_per_snippet
        sn = super().get_data_info(idx // k)
        f1, f2 = self._draw_pair(sn, idx % k, self._draw_rng(idx))
        info = self._pair_info(sn, f1, f2)
        info['sample_idx'] = idx
        return info
