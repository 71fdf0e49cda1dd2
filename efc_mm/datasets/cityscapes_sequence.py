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
import os.path as osp
import re
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from mmseg.datasets import BaseSegDataset, CityscapesDataset

from ..registry import DATASETS
from .pair_sampling import PairDrawMixin, consecutive_runs, scan_files

__all__ = ['CityscapesSequencePairDataset', 'PairDrawMixin', 'scan_files']

_STEM_RE = re.compile(r'^(?P<city>.+)_(?P<seq>\d+)_(?P<frame>\d+)$')


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
      ``pairs_per_snippet=1`` (TCC_single) means K = M = 1.
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
        frames_per_snippet (int): Defaults to 30.
        labelled_index (int): index of the labelled frame in a snippet.
            Defaults to 19.
        mode (str, optional): ``'train'`` or ``'consecutive'``; default
            ``'consecutive'`` if ``test_mode`` else ``'train'``.
        img_suffix (str): Defaults to ``'_leftImg8bit.png'``.
        seg_map_suffix (str): Defaults to ``'_gtFine_labelTrainIds.png'``.
        verify (bool): decode every frame and label once at build and raise
            one :class:`~efc_mm.datasets.pair_sampling.DataVerificationError`
            listing every unreadable file, size mismatch and out-of-range
            label (slow on a full dataset; ``tools/misc/check_dataset.py``
            runs it). Defaults to False.
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
                 frames_per_snippet: int = 30,
                 labelled_index: int = 19,
                 mode: Optional[str] = None,
                 img_suffix: str = '_leftImg8bit.png',
                 seg_map_suffix: str = '_gtFine_labelTrainIds.png',
                 test_mode: bool = False,
                 verify: bool = False,
                 **kwargs) -> None:
        if max_gap >= frames_per_snippet:
            raise ValueError(f'max_gap must be in [1, frames_per_snippet - '
                             f'1], got {max_gap}')
        if not 0 <= labelled_index < frames_per_snippet:
            raise ValueError(f'labelled_index {labelled_index} outside a '
                             f'snippet of {frames_per_snippet} frames')
        # M is capped at K: pairs_per_snippet=1 alone means TCC_single
        self._init_pair_draw(mode, test_mode, pairs_per_snippet,
                             labelled_pairs, max_gap)
        self.pairs_per_snippet = self.pairs_per_item
        self.with_unlabelled = with_unlabelled
        self.frames_per_snippet = frames_per_snippet
        self.labelled_index = labelled_index
        super().__init__(
            data_root=data_root, data_prefix=data_prefix,
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
            test_mode=test_mode, **kwargs)
        if verify:
            self.verify()

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
        return [dict(img_root=root, rel_dir=rel_dir, city=city, seq=seq_s,
                     start=start, end=end, labelled_frame=None)
                for (rel_dir, city, seq_s), frames in sorted(groups.items())
                for start, end in consecutive_runs(frames)]

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
        return self._consecutive_pairs(snippets)

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
        info = self._make_pair_info(
            [frame_path(img_root, rel_dir, city, seq, f, self.img_suffix)
             for f in (f1, f2)], segs, (f1, f2), f'{city}_{seq}')
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
