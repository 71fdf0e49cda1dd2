"""Your own video: clips as folders of frames, a few of them labelled.

Constructor (registered in mmseg's ``DATASETS``; every argument keyword)::

    VideoFramesPairDataset(
        data_root='data/my_video',
        data_prefix=dict(img_path='frames',        # one folder per clip
                         seg_map_path='labels',    # optional, sparse labels
                         unlabelled_img_path=None),  # optional extra clips
        metainfo=None,          # dict(classes=..., palette=...); else read
        meta_file='meta.json',  # <data_root>/meta.json
        pairs_per_snippet=10,   # K pairs per labelled frame (train mode)
        labelled_pairs=5,       # M of them contain the labelled frame
        max_gap=5,              # gap t ~ U[1, max_gap] in frames
        snippet_range=None,     # (before, after) frames around a labelled
                                # frame; None = the whole clip
        with_unlabelled=False,  # + pairs from clips without labels (UD)
        mode=None,              # 'train' | 'consecutive' (test_mode default)
        img_suffix=IMG_EXTENSIONS, seg_map_suffix='.png',
        frame_regex=r'(\\d+)(?!.*\\d)',   # frame number: last run of digits
        test_mode=False, verify=False, pipeline=[...],
        **kwargs)               # other mmseg BaseSegDataset arguments

Folder layout::

    data/my_video/
      meta.json               {"classes": ["road", "car", "sky"],
                               "palette": [[128, 64, 128], [0, 0, 142],
                                           [70, 130, 180]]}
      frames/                 data_prefix['img_path']
        clip_a/000000.jpg     one sub-folder per clip (nested folders are
        clip_a/000001.jpg     fine: the clip is the folder holding frames);
        ...                   any image extension; the order is the frame
        clip_b/frame_17.png   number in the name (frame_regex), numbering
        ...                   evenly spaced (step 1, or e.g. 5 after a stride)
      labels/                 data_prefix['seg_map_path'] (optional)
        clip_a/000010.png     the label of frames/clip_a/000010.jpg: same
        clip_a/000040.png     clip folder, same stem + seg_map_suffix;
                              single-channel uint8 class ids, 255 = ignore

Bad layouts are refused when the dataset is built, with one error
(:class:`~efc_mm.datasets.pair_sampling.DataLayoutError`) listing every
problem: no frames, a name without a frame number, two frames with one
number, gaps in the numbering, a one-frame clip, frames of different sizes in
a clip, a label with no frame, a label of another size than its frame, and a
``meta.json`` without classes. ``verify=True`` (or
``tools/misc/check_dataset.py``) also decodes every file and checks label
values.

Pairs are drawn as :class:`CityscapesSequencePairDataset` draws them (the
code is shared: :class:`~efc_mm.datasets.pair_sampling.PairDrawMixin`), with
one *snippet* per labelled frame L: the clip (or ``snippet_range`` around
L). ``frame_gap`` counts stored frames (positions in the clip), ``frame_ids``
are the numbers in the names. A drawn pair carries the label of every
labelled frame it contains.
"""
import json
import os.path as osp
import re
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmseg.datasets import BaseSegDataset

from ..registry import DATASETS
from .pair_sampling import (DataLayoutError, PairDrawMixin, consecutive_runs,
                            image_size, scan_files)

#: image extensions recognised as frames (either case)
IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp',
                  '.ppm', '.pgm')

#: default frame-number pattern: the last run of digits in the file stem
DEFAULT_FRAME_REGEX = r'(\d+)(?!.*\d)'


def _with_upper(suffixes: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    if isinstance(suffixes, str):
        suffixes = (suffixes, )
    out = []
    for s in suffixes:
        for v in (s, s.lower(), s.upper()):
            if v not in out:
                out.append(v)
    return tuple(out)


def _strip_ext(name: str, suffixes: Tuple[str, ...]) -> str:
    for s in sorted(suffixes, key=len, reverse=True):
        if name.endswith(s):
            return name[:-len(s)]
    return name


def read_video_metainfo(path: str) -> dict:
    """``classes`` (and ``palette`` when given) from a ``meta.json``.

    Raises:
        ValueError: unreadable JSON, missing / empty ``classes``, or a
            ``palette`` that is not one ``[r, g, b]`` (0..255) per class.
    """
    try:
        with open(path, encoding='utf-8') as f:
            meta = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not valid JSON ({e})') from e
    if not isinstance(meta, dict) or not meta.get('classes'):
        raise ValueError(f'{path}: expected an object with a non-empty '
                         '"classes" list (and optionally "palette")')
    classes = meta['classes']
    if not isinstance(classes, list) or not all(
            isinstance(c, str) for c in classes):
        raise ValueError(f'{path}: "classes" must be a list of names, got '
                         f'{classes!r}')
    out = dict(classes=tuple(classes))
    palette = meta.get('palette')
    if palette is not None:
        ok = (isinstance(palette, list) and len(palette) == len(classes)
              and all(isinstance(c, list) and len(c) == 3 and all(
                  isinstance(v, int) and 0 <= v <= 255 for v in c)
                      for c in palette))
        if not ok:
            raise ValueError(
                f'{path}: "palette" must hold one [r, g, b] (ints 0..255) '
                f'per class ({len(classes)} classes)')
        out['palette'] = [list(c) for c in palette]
    return out


@DATASETS.register_module()
class VideoFramesPairDataset(PairDrawMixin, BaseSegDataset):
    """Pairs of frames of your own clips (see the module docstring for the
    constructor and the folder layout).

    Modes:

    * ``'train'``: every labelled frame L gives a snippet (the whole clip,
      or ``snippet_range=(before, after)`` frames around L, cut at the
      clip's ends) and ``pairs_per_snippet`` (K) items; item ``k`` contains
      L when ``k < labelled_pairs`` (M) and avoids it otherwise; gaps drawn
      from ``[1, max_gap]``; pairs re-drawn at every access. With
      ``with_unlabelled``: clips without labels (and, with
      ``snippet_range``, runs of frames outside every snippet, and the
      clips of ``unlabelled_img_path``) give K unlabelled pairs each.
    * ``'consecutive'``: every pair ``(f, f + 1)`` of every labelled clip
      (every clip when ``with_unlabelled`` or when no clip has a label),
      with the labels of both frames where they exist. Default when
      ``test_mode=True``.

    Args:
        data_root (str): dataset root.
        data_prefix (dict): ``img_path`` (required), ``seg_map_path``,
            ``unlabelled_img_path`` (relative to ``data_root``).
        metainfo (dict, optional): ``classes`` and ``palette``; keys given
            here win over ``meta_file``.
        meta_file (str): JSON with ``classes`` / ``palette``, relative to
            ``data_root`` (read when present). Defaults to ``'meta.json'``.
        pairs_per_snippet (int): K. Defaults to 10 (paper).
        labelled_pairs (int): M, capped at K. Defaults to 5 (paper).
        max_gap (int): Defaults to 5 (paper).
        snippet_range (tuple[int, int], optional): frames before / after a
            labelled frame in its snippet. None: the whole clip.
        with_unlabelled (bool): Defaults to False.
        mode (str, optional): ``'train'`` / ``'consecutive'``.
        img_suffix (str | tuple[str]): frame extensions (either case).
            Defaults to :data:`IMG_EXTENSIONS`.
        seg_map_suffix (str): label file = frame stem + this. Defaults to
            ``'.png'``.
        frame_regex (str): pattern whose group ``frame`` (or first group,
            or whole match) is the frame number, searched in the file stem.
            Defaults to the last run of digits.
        verify (bool): decode every file once at build and list every bad
            one in one error. Defaults to False.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments.

    Data info of an item: as :class:`CityscapesSequencePairDataset`
    (``img_path``, ``img2_path``, ``seg_map_path``, ``seg_map2_path``,
    ``frame_gap``, ``labelled``, ``sequence`` = the clip folder,
    ``frame_ids``, ``num_classes``, ...).
    """

    def __init__(self,
                 data_root: Optional[str] = None,
                 data_prefix: dict = dict(img_path='frames',
                                          seg_map_path='labels'),
                 metainfo: Optional[dict] = None,
                 meta_file: str = 'meta.json',
                 pairs_per_snippet: int = 10,
                 labelled_pairs: int = 5,
                 max_gap: int = 5,
                 snippet_range: Optional[Tuple[int, int]] = None,
                 with_unlabelled: bool = False,
                 mode: Optional[str] = None,
                 img_suffix: Union[str, Sequence[str]] = IMG_EXTENSIONS,
                 seg_map_suffix: str = '.png',
                 frame_regex: str = DEFAULT_FRAME_REGEX,
                 test_mode: bool = False,
                 verify: bool = False,
                 **kwargs) -> None:
        self._init_pair_draw(mode, test_mode, pairs_per_snippet,
                             labelled_pairs, max_gap)
        self.pairs_per_snippet = self.pairs_per_item
        if snippet_range is not None:
            snippet_range = tuple(int(v) for v in snippet_range)
            if len(snippet_range) != 2 or min(snippet_range) < 0 or \
                    sum(snippet_range) < 1:
                raise ValueError(
                    'snippet_range must be (before, after) with non-negative'
                    f' values, not both 0; got {snippet_range}')
        self.snippet_range = snippet_range
        self.with_unlabelled = with_unlabelled
        try:
            self.frame_regex = re.compile(frame_regex)
        except re.error as e:
            raise ValueError(f'frame_regex {frame_regex!r} is not a valid '
                             f'regular expression: {e}') from e
        self.meta_file = meta_file
        metainfo = self._resolve_metainfo(data_root, meta_file, metainfo)
        self._clips: Dict[str, dict] = {}
        super().__init__(data_root=data_root, data_prefix=data_prefix,
                         metainfo=metainfo, img_suffix=_with_upper(img_suffix),
                         seg_map_suffix=seg_map_suffix, test_mode=test_mode,
                         **kwargs)
        if verify:
            self.verify()

    # ------------------------------------------------------------ metainfo
    @staticmethod
    def _resolve_metainfo(data_root: Optional[str], meta_file: str,
                          metainfo: Optional[dict]) -> dict:
        metainfo = dict(metainfo or {})
        path = meta_file
        if meta_file and data_root and not osp.isabs(meta_file):
            path = osp.join(data_root, meta_file)
        if meta_file and osp.isfile(path):
            from_file = read_video_metainfo(path)
            if 'classes' in metainfo:   # palette of other classes: unused
                from_file = {}
            metainfo = {**from_file, **metainfo}
        if not metainfo.get('classes'):
            raise ValueError(
                'VideoFramesPairDataset needs the class names: give '
                'metainfo=dict(classes=(...), palette=[...]) in the config '
                f'or write {path} as {{"classes": [...], "palette": '
                '[[r, g, b], ...]}')
        return metainfo

    # ---------------------------------------------------------------- scan
    def _frame_number(self, stem: str) -> Optional[int]:
        m = self.frame_regex.search(stem)
        if m is None:
            return None
        if 'frame' in self.frame_regex.groupindex:
            text = m.group('frame')
        elif self.frame_regex.groups:
            text = m.group(1)
        else:
            text = m.group(0)
        try:
            return int(text)
        except (TypeError, ValueError):
            return None

    def _scan_clips(self, root: str, problems: List[str]) -> Dict[str, dict]:
        """Clips under ``root``: ``{clip dir: dict(name, frames, numbers,
        stems, labels, size)}``; layout problems are appended."""
        by_dir: Dict[str, List[Tuple[int, str, str]]] = defaultdict(list)
        for rel in scan_files(root, self.img_suffix):
            rel_dir, name = osp.split(rel)
            stem = _strip_ext(name, self.img_suffix)
            num = self._frame_number(stem)
            path = osp.join(root, rel)
            if num is None:
                problems.append(
                    f'frame {path}: no frame number in its name (frame_regex'
                    f' {self.frame_regex.pattern!r})')
                continue
            by_dir[rel_dir].append((num, stem, path))
        clips = {}
        for rel_dir, frames in sorted(by_dir.items()):
            clip_dir = osp.join(root, rel_dir) if rel_dir else root
            frames.sort()
            nums = [n for n, _, _ in frames]
            dups = defaultdict(list)
            for n, _, p in frames:
                dups[n].append(p)
            bad_dup = False
            for n, ps in dups.items():
                if len(ps) > 1:
                    bad_dup = True
                    problems.append(f'clip {clip_dir}: frames {ps} share the '
                                    f'frame number {n}')
            if bad_dup:
                continue
            if len(frames) < 2:
                problems.append(f'clip {clip_dir} has a single frame '
                                f'({frames[0][2]}); a pair needs two')
                continue
            diffs = [b - a for a, b in zip(nums[:-1], nums[1:])]
            step = min(diffs)
            gaps = [(a, b) for a, b in zip(nums[:-1], nums[1:])
                    if b - a != step]
            if gaps:
                shown = ', '.join(f'{a} -> {b}' for a, b in gaps[:5])
                more = f' and {len(gaps) - 5} more' if len(gaps) > 5 else ''
                problems.append(
                    f'clip {clip_dir}: gaps in the frame numbering (step '
                    f'{step}): {shown}{more} (e.g. after '
                    f'{frames[nums.index(gaps[0][0])][2]})')
                continue
            sizes = {p: image_size(p) for _, _, p in frames}
            unreadable = [why for s, why in sizes.values() if s is None]
            problems.extend(unreadable)
            shapes = [s for s, _ in sizes.values() if s is not None]
            if not shapes:
                continue
            common = max(set(shapes), key=lambda s: (shapes.count(s), s))
            odd = [f'{p} is {s[1]}x{s[0]}' for p, (s, _) in sizes.items()
                   if s is not None and s != common]
            if odd:
                problems.append(
                    f'clip {clip_dir}: frames of mixed sizes: most are '
                    f'{common[1]}x{common[0]} (WxH) but ' + ', '.join(odd))
            if unreadable or odd:
                continue
            name = osp.relpath(clip_dir, self.data_root) \
                if self.data_root else clip_dir
            clips[clip_dir] = dict(
                name=name, frames=[p for _, _, p in frames], numbers=nums,
                stems=[s for _, s, _ in frames], labels={}, size=common)
        return clips

    def _attach_labels(self, img_root: str, seg_root: str,
                       clips: Dict[str, dict], problems: List[str]) -> None:
        """Match every label file to its frame (same clip folder, same
        stem); labels without a frame and of another size are problems."""
        index = {}
        for clip_dir, clip in clips.items():
            rel_dir = osp.relpath(clip_dir, img_root)
            for pos, stem in enumerate(clip['stems']):
                index[osp.normpath(osp.join(rel_dir, stem))] = (clip, pos)
        for rel in scan_files(seg_root, self.seg_map_suffix):
            path = osp.join(seg_root, rel)
            key = osp.normpath(rel[:-len(self.seg_map_suffix)])
            if key not in index:
                problems.append(
                    f'label {path} has no frame: expected '
                    f'{osp.join(img_root, key)}<{"|".join(IMG_EXTENSIONS)}>'
                    ' (same clip folder and stem)')
                continue
            clip, pos = index[key]
            size, why = image_size(path)
            if size is None:
                problems.append(why)
            elif size != clip['size']:
                problems.append(
                    f'label {path} is {size[1]}x{size[0]} (WxH) but its '
                    f'frame {clip["frames"][pos]} is {clip["size"][1]}x'
                    f'{clip["size"][0]}')
            else:
                clip['labels'][pos] = path

    def load_data_list(self) -> List[dict]:
        """Scan the clips into snippets (train mode) or consecutive pairs;
        raise one :class:`DataLayoutError` listing every layout problem."""
        img_root = self.data_prefix.get('img_path')
        seg_root = self.data_prefix.get('seg_map_path')
        extra_root = self.data_prefix.get('unlabelled_img_path')
        if not img_root:
            raise ValueError("data_prefix['img_path'] (the folder of clip "
                             'folders) is required')
        if not osp.isdir(img_root):
            raise FileNotFoundError(f'frame directory not found: {img_root}')
        if seg_root and not osp.isdir(seg_root):
            raise FileNotFoundError(f'label directory not found: {seg_root}')
        problems: List[str] = []
        clips = self._scan_clips(img_root, problems)
        if not clips and not problems:
            problems.append(
                f'no frames under {img_root} (extensions '
                f'{", ".join(IMG_EXTENSIONS)}, in one sub-folder per clip)')
        if seg_root:
            self._attach_labels(img_root, seg_root, clips, problems)
        extra = self._scan_clips(extra_root, problems) if extra_root else {}
        if problems:
            raise DataLayoutError(type(self).__name__, problems)
        self._clips = {**clips, **extra}

        labelled = [c for c in clips if clips[c]['labels']]
        unlabelled = [c for c in clips if not clips[c]['labels']]
        unlabelled += list(extra)
        if self.mode == 'consecutive':
            use = labelled + (unlabelled if (self.with_unlabelled or
                                             not labelled) else [])
            return self._consecutive_pairs(
                self._snippet(c, 0, len(self._clips[c]['frames']) - 1)
                for c in use)
        snippets = []
        covered = defaultdict(set)
        for c in labelled:
            n = len(clips[c]['frames'])
            for lab in sorted(clips[c]['labels']):
                start, end = 0, n - 1
                if self.snippet_range is not None:
                    start = max(0, lab - self.snippet_range[0])
                    end = min(n - 1, lab + self.snippet_range[1])
                covered[c].update(range(start, end + 1))
                snippets.append(self._snippet(c, start, end, lab))
        if not snippets and not self.with_unlabelled:
            raise ValueError(
                f'no labelled frames: no {self.seg_map_suffix} label under '
                f'{seg_root} matches a frame under {img_root}; add labels or '
                'set with_unlabelled=True to train on unlabelled clips only')
        if self.with_unlabelled:
            n_lab = len(snippets)
            for c in labelled:
                free = set(range(len(clips[c]['frames']))) - covered[c]
                snippets += [self._snippet(c, s, e)
                             for s, e in consecutive_runs(free)]
            snippets += [self._snippet(
                c, 0, len(self._clips[c]['frames']) - 1) for c in unlabelled]
            if len(snippets) == n_lab:
                raise ValueError(
                    'with_unlabelled=True but no unlabelled clip was found '
                    f'(every clip under {img_root} is covered by labelled '
                    "snippets); set data_prefix['unlabelled_img_path'] to a "
                    'folder of extra clips')
        return snippets

    def _snippet(self, clip: str, start: int, end: int,
                 lab: Optional[int] = None) -> dict:
        c = self._clips[clip]
        name = c['name'] if lab is None else \
            f'{c["name"]} (labelled frame {c["numbers"][lab]})'
        return dict(clip=clip, name=name, start=start, end=end,
                    labelled_frame=lab)

    # --------------------------------------------------------------- pairs
    def _pair_info(self, sn: dict, f1: int, f2: int,
                   consecutive: bool = False) -> dict:
        """Data info of positions ``f1 < f2`` of the clip of ``sn``."""
        clip = self._clips[sn['clip']]
        segs = [clip['labels'].get(f) for f in (f1, f2)]
        return self._make_pair_info(
            (clip['frames'][f1], clip['frames'][f2]), segs,
            (clip['numbers'][f1], clip['numbers'][f2]), clip['name'],
            frame_gap=f2 - f1)
