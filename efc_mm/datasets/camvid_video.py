"""CamVid (SegNet layout) as single frames and as pairs of video frames.

Layout (``data/camvid/`` in the configs, relative to the repository)::

    {split}/{seq}_{frame}.png       480x360 images, e.g. 0016E5_07959.png,
    {split}annot/{seq}_{frame}.png  0001TP_006690.png, 0006R0_f00930.png
                                    labels 0..10, 11 = void (-> 255)

The frame number is parsed from the name (an optional ``f`` before the
digits, as in ``0006R0_f00930``); it counts frames of the 30 Hz video, so
``frame_gap`` of a pair is in 30 Hz frames (SegNet train frames are 30
apart, the 15 Hz val sequence 2 apart).
"""
import os.path as osp
import re
from collections import defaultdict
from typing import Iterable, List, Optional, Tuple

import numpy as np
from mmseg.datasets import BaseSegDataset

from ..registry import DATASETS
from .pair_sampling import PairDrawMixin, scan_files

_NAME_RE = re.compile(r'^(?P<seq>.+?)_f?(?P<frame>\d+)$')

CAMVID_METAINFO = dict(
    classes=('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree',
             'SignSymbol', 'Fence', 'Car', 'Pedestrian', 'Bicyclist'),
    palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128],
             [0, 0, 192], [128, 128, 0], [192, 128, 128], [64, 64, 128],
             [64, 0, 128], [64, 64, 0], [0, 128, 192]])

#: SegNet's void label (11) -> ignore
CAMVID_LABEL_MAP = {11: 255}


def parse_camvid_name(name: str, suffix: str = '.png'):
    """``'0016E5_07959.png'`` -> ``('0016E5', 7959)``."""
    stem = osp.basename(name)
    if stem.endswith(suffix):
        stem = stem[:-len(suffix)]
    m = _NAME_RE.match(stem)
    if m is None:
        raise ValueError(f'{name}: CamVid file name does not match '
                         f'"{{seq}}_{{frame}}{suffix}"')
    return m['seq'], int(m['frame'])


def check_label_stride(owner: str, field: str, stride, offset_field: str,
                       offset, minimum: int = 1) -> None:
    """``stride`` an integer ``>= minimum`` and ``0 <= offset < stride``, or
    a ``ValueError`` naming ``owner`` and the field."""
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) \
            or stride < minimum:
        raise ValueError(f'{owner}: {field} must be an integer >= {minimum}, '
                         f'got {stride!r}')
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) \
            or not 0 <= offset < stride:
        raise ValueError(f'{owner}: {offset_field} must be an integer in '
                         f'[0, {field}) = [0, {stride}), got {offset!r}')


def on_stride(position: int, stride: int, offset: int) -> bool:
    """Whether ``position`` (index in the sorted frame list of a sequence)
    is one of ``offset, offset + stride, offset + 2 * stride, ...``."""
    return position >= offset and (position - offset) % stride == 0


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """Single CamVid frames for validation / test mIoU (11 classes, SegNet
    void 11 mapped to 255 through ``label_map``, which mmseg's
    ``LoadAnnotations`` applies).

    Args:
        exclude_label_stride (int, optional): leave out every
            ``exclude_label_stride``-th frame of each sequence (by position
            in the sequence's frames sorted by frame number, starting at
            ``exclude_label_offset``): the frames whose labels a sparse
            training run used (:class:`CamVidVideoDataset` with the same
            ``label_stride`` / ``label_offset``), so that mIoU is measured
            on held-out frames only. ``None`` (default): keep every frame.
            Must be >= 2.
        exclude_label_offset (int): Defaults to 0.
        img_suffix, seg_map_suffix, **kwargs: :class:`BaseSegDataset`.
    """

    METAINFO = CAMVID_METAINFO

    def __init__(self, img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 exclude_label_stride: Optional[int] = None,
                 exclude_label_offset: int = 0, **kwargs) -> None:
        if exclude_label_stride is not None:
            check_label_stride(type(self).__name__, 'exclude_label_stride',
                               exclude_label_stride, 'exclude_label_offset',
                               exclude_label_offset, minimum=2)
        self.exclude_label_stride = exclude_label_stride
        self.exclude_label_offset = exclude_label_offset
        super().__init__(img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        for info in data_list:
            info['label_map'] = dict(CAMVID_LABEL_MAP)
        if self.exclude_label_stride is None:
            return data_list
        seqs = defaultdict(list)
        for info in data_list:
            seq, frame = parse_camvid_name(info['img_path'], self.img_suffix)
            seqs[seq].append((frame, info['img_path']))
        drop = set()
        for frames in seqs.values():
            for i, (_, path) in enumerate(sorted(frames)):
                if on_stride(i, self.exclude_label_stride,
                             self.exclude_label_offset):
                    drop.add(path)
        return [info for info in data_list if info['img_path'] not in drop]


@DATASETS.register_module()
class CamVidVideoDataset(PairDrawMixin, BaseSegDataset):
    """Pairs built around the labelled CamVid frames.

    Modes:

    * ``'train'``: ``pairs_per_frame`` items per labelled frame, the
      neighbour re-drawn at every access.

      - with ``raw_frames_dir`` (the 30 Hz video as
        ``raw_frame_tmpl.format(seq=..., frame=...)``): the neighbour is the
        raw frame at ``L - t`` or ``L + t``, t drawn from ``[1, max_gap]``;
        it is unlabelled. Every raw neighbour within ``max_gap`` must exist
        (checked when the dataset is built; the error names the file).
      - without it: the neighbour is the previous or the next *labelled*
        frame of the same sequence (both frames labelled, ``frame_gap`` the
        frame-number difference). A sequence with a single labelled frame
        is refused.
      - with ``label_stride > 1`` (sparse labels in a labelled video such
        as the 15 Hz val sequence, no raw frames): only every
        ``label_stride``-th frame of each sequence (by position in its
        frames sorted by frame number, starting at ``label_offset``) keeps
        its label; each item is such a frame paired with a frame at
        ``t`` positions before or after it, ``t`` drawn uniformly from the
        gaps in ``[1, max_gap]`` that have a candidate, then the side. The
        neighbour is *unlabelled* (its label is not loaded), and frames at
        labelled positions are never drawn as neighbours. With
        ``raw_frames_dir`` the stride only selects the labelled frames.
    * ``'consecutive'``: every pair of successive labelled frames of each
      sequence (both labelled; for temporal-consistency evaluation on the
      15 Hz val sequence). Default when ``test_mode=True``. With
      ``exclude_label_stride`` the frames at the positions a sparse training
      run labelled lose their label (they stay in the pairs, so temporal
      consistency still covers the whole sequence, while mIoU through
      ``PairIoUMetric`` counts only the held-out frames).

    Pairs are ordered in time (frame 1 is the earlier one); the label
    travels with its frame.

    Args:
        data_prefix (dict): ``img_path`` (e.g. ``'train'``) and
            ``seg_map_path`` (``'trainannot'``).
        raw_frames_dir (str, optional): directory of raw video frames
            (relative paths are joined with ``data_root``).
        raw_frame_tmpl (str): Defaults to ``'{seq}_{frame:05d}.png'``.
        max_gap (int): Defaults to 5 (raw-frame mode).
        pairs_per_frame (int): Defaults to 1.
        label_stride (int): train mode: keep the label of every
            ``label_stride``-th frame only (see above). Defaults to 1 (every
            labelled frame, the behaviour without the option).
        label_offset (int): position of the first kept label, in
            ``[0, label_stride)``. Defaults to 0.
        exclude_label_stride (int, optional): consecutive mode: drop the
            labels at these positions (>= 2; pass the training run's
            ``label_stride``). Defaults to None (keep every label).
        exclude_label_offset (int): Defaults to 0.
        mode (str, optional): ``'train'`` / ``'consecutive'``.
        verify (bool): decode every frame and label once at build and list
            every bad file in one error (see
            :class:`~efc_mm.datasets.CityscapesSequencePairDataset`).
        **kwargs: :class:`BaseSegDataset` arguments.
    """

    METAINFO = CAMVID_METAINFO

    def __init__(self,
                 data_root: Optional[str] = None,
                 data_prefix: dict = dict(img_path='train',
                                          seg_map_path='trainannot'),
                 raw_frames_dir: Optional[str] = None,
                 raw_frame_tmpl: str = '{seq}_{frame:05d}.png',
                 max_gap: int = 5,
                 pairs_per_frame: int = 1,
                 label_stride: int = 1,
                 label_offset: int = 0,
                 exclude_label_stride: Optional[int] = None,
                 exclude_label_offset: int = 0,
                 mode: Optional[str] = None,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 test_mode: bool = False,
                 verify: bool = False,
                 **kwargs) -> None:
        if max_gap < 1 or pairs_per_frame < 1:
            raise ValueError('max_gap and pairs_per_frame must be >= 1')
        self._init_pair_draw(mode, test_mode, pairs_per_frame,
                             max_gap=max_gap)
        name = type(self).__name__
        check_label_stride(name, 'label_stride', label_stride,
                           'label_offset', label_offset)
        if exclude_label_stride is not None:
            check_label_stride(name, 'exclude_label_stride',
                               exclude_label_stride, 'exclude_label_offset',
                               exclude_label_offset, minimum=2)
        if self.mode == 'train' and exclude_label_stride is not None:
            raise ValueError(
                f"{name}: exclude_label_stride applies to mode='consecutive'"
                ' (evaluation on held-out frames); in train mode use '
                'label_stride')
        if self.mode == 'consecutive' and (label_stride != 1 or
                                           label_offset != 0):
            raise ValueError(
                f"{name}: label_stride / label_offset apply to mode='train';"
                " in mode='consecutive' use exclude_label_stride / "
                'exclude_label_offset to evaluate on the held-out frames')
        self.label_stride = int(label_stride)
        self.label_offset = int(label_offset)
        self.exclude_label_stride = exclude_label_stride
        self.exclude_label_offset = int(exclude_label_offset)
        if raw_frames_dir and data_root and not osp.isabs(raw_frames_dir):
            raw_frames_dir = osp.join(data_root, raw_frames_dir)
        self.raw_frames_dir = raw_frames_dir
        self.raw_frame_tmpl = raw_frame_tmpl
        self.pairs_per_frame = pairs_per_frame
        super().__init__(data_root=data_root, data_prefix=data_prefix,
                         img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, test_mode=test_mode,
                         **kwargs)
        if verify:
            self.verify()

    def _raw_path(self, seq: str, frame: int) -> str:
        return osp.join(self.raw_frames_dir,
                        self.raw_frame_tmpl.format(seq=seq, frame=frame))

    def load_data_list(self) -> List[dict]:
        img_root = self.data_prefix.get('img_path')
        seg_root = self.data_prefix.get('seg_map_path')
        if not img_root or not seg_root:
            raise ValueError("CamVidVideoDataset needs data_prefix['img_path']"
                             " and data_prefix['seg_map_path']")
        seqs = defaultdict(list)
        for rel in scan_files(img_root, self.img_suffix):
            seq, frame = parse_camvid_name(rel, self.img_suffix)
            seg = osp.join(seg_root, rel[:-len(self.img_suffix)] +
                           self.seg_map_suffix)
            if not osp.isfile(seg):
                raise FileNotFoundError(
                    f'label of {osp.join(img_root, rel)} not found: {seg}')
            seqs[seq].append(dict(frame=frame,
                                  img_path=osp.join(img_root, rel),
                                  seg_map_path=seg))
        if not seqs:
            raise ValueError(f'no {self.img_suffix} frames under {img_root}')
        items = []
        for seq in sorted(seqs):
            frames = sorted(seqs[seq], key=lambda x: x['frame'])
            if self.mode == 'consecutive':
                if self.exclude_label_stride is not None:
                    frames = [
                        dict(fr, seg_map_path=None) if on_stride(
                            i, self.exclude_label_stride,
                            self.exclude_label_offset) else fr
                        for i, fr in enumerate(frames)]
                for a, b in zip(frames[:-1], frames[1:]):
                    items.append(self._pair(seq, a, b))
                continue
            stride, offset = self.label_stride, self.label_offset
            for i, fr in enumerate(frames):
                if not on_stride(i, stride, offset):
                    continue
                if self.raw_frames_dir:
                    for t in range(1, self.max_gap + 1):
                        for f in (fr['frame'] - t, fr['frame'] + t):
                            path = self._raw_path(seq, f)
                            if not osp.isfile(path):
                                raise FileNotFoundError(
                                    f'raw neighbour of labelled frame '
                                    f'{fr["img_path"]} at gap {t} not found:'
                                    f' {path}')
                    nbrs = []
                elif stride > 1:
                    nbrs = self._unlabelled_neighbours(frames, i)
                    if not nbrs:
                        raise ValueError(
                            f'labelled frame {fr["img_path"]} has no '
                            f'unlabelled frame within max_gap={self.max_gap}'
                            f' positions in sequence {seq} (label_stride='
                            f'{stride}): nothing to pair it with')
                else:
                    nbrs = [frames[j] for j in (i - 1, i + 1)
                            if 0 <= j < len(frames)]
                    if not nbrs:
                        raise ValueError(
                            f'labelled frame {fr["img_path"]} is the only '
                            f'frame of sequence {seq} and no raw_frames_dir '
                            'is given: it has no neighbour to pair with')
                items.append(dict(seq=seq, frame=fr, neighbours=nbrs))
        if not items:
            raise ValueError(
                f'{type(self).__name__}: no sequence under {img_root} has a '
                f'frame at position label_offset={self.label_offset}: no '
                'labelled frame to train on')
        return items

    def _unlabelled_neighbours(self, frames: List[dict], i: int
                               ) -> List[dict]:
        """Frames at ``1..max_gap`` positions before / after position ``i``
        that are not at a labelled position, each without its label and
        with its position gap ``t`` (``label_stride > 1``)."""
        out = []
        for t in range(1, self.max_gap + 1):
            for j in (i - t, i + t):
                if 0 <= j < len(frames) and not on_stride(
                        j, self.label_stride, self.label_offset):
                    out.append(dict(frames[j], seg_map_path=None, gap=t))
        return out

    def _pair(self, seq: str, a: dict, b: dict) -> dict:
        """Data info of frames ``a`` (earlier) and ``b``."""
        return self._make_pair_info(
            (a['img_path'], b['img_path']),
            (a.get('seg_map_path'), b.get('seg_map_path')),
            (a['frame'], b['frame']), seq, label_map=dict(CAMVID_LABEL_MAP))

    def _draw_item(self, item: dict, slot: int,
                   rng: np.random.Generator) -> dict:
        """Train item: labelled frame ``item['frame']`` and a drawn
        neighbour (raw frame at ``L -+ t``, an unlabelled frame ``t``
        positions away with ``label_stride > 1``, or an adjacent labelled
        frame)."""
        lab = item['frame']
        if self.raw_frames_dir:
            t = int(rng.integers(1, self.max_gap + 1))
            f = lab['frame'] + (t if rng.integers(2) else -t)
            nbr = dict(frame=f, img_path=self._raw_path(item['seq'], f),
                       seg_map_path=None)
        elif self.label_stride > 1:
            nbrs = item['neighbours']
            gaps = sorted({n['gap'] for n in nbrs})
            t = gaps[int(rng.integers(len(gaps)))]
            nbrs = [n for n in nbrs if n['gap'] == t]
            nbr = nbrs[int(rng.integers(len(nbrs)))]
        else:
            nbrs = item['neighbours']
            nbr = nbrs[int(rng.integers(len(nbrs)))]
        a, b = (lab, nbr) if nbr['frame'] > lab['frame'] else (nbr, lab)
        return self._pair(item['seq'], a, b)

    def _verify_groups(self) -> Iterable[Tuple[str, List[str], List[str]]]:
        """Per sequence: its labelled frames, their labels and (train mode
        with ``raw_frames_dir``) every raw neighbour a pair can draw."""
        if self.mode != 'train':
            yield from super()._verify_groups()
            return
        groups = defaultdict(lambda: (set(), set()))
        for item in self._entries():
            imgs, labs = groups[item['seq']]
            fr = item['frame']
            imgs.add(fr['img_path'])
            labs.add(fr['seg_map_path'])
            for nbr in item['neighbours']:
                imgs.add(nbr['img_path'])
                if nbr['seg_map_path'] is not None:
                    labs.add(nbr['seg_map_path'])
            if self.raw_frames_dir:
                for t in range(1, self.max_gap + 1):
                    for f in (fr['frame'] - t, fr['frame'] + t):
                        imgs.add(self._raw_path(item['seq'], f))
        for seq, (imgs, labs) in sorted(groups.items()):
            yield f'sequence {seq}', sorted(imgs), sorted(labs)


# ------------------------------------------------------------------------
# The label split of a config: one override for train and evaluation
# ------------------------------------------------------------------------
#: top-level config key of the split: ``dict(stride=15, offset=0)``
LABEL_SPLIT_KEY = 'label_split'
#: the split the dataset dicts of a base config were written with (set by
#: ``configs/_base_/datasets/camvid_sparse.py``; tells an override of
#: ``label_split`` from a dataset field edited by hand)
LABEL_SPLIT_BASE_KEY = '_label_split_base_'
_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
#: (stride field, offset field) of each role
_SPLIT_FIELDS = {'train': ('label_stride', 'label_offset'),
                 'eval': ('exclude_label_stride', 'exclude_label_offset')}


def _type_name(ds) -> str:
    t = ds.get('type')
    if isinstance(t, str):
        return t.split('.')[-1]
    return getattr(t, '__name__', '')


def _camvid_dataset_cfgs(cfg) -> List[Tuple[str, dict, str]]:
    """``(path, dataset dict, role)`` of every CamVid dataset of the train /
    val / test dataloaders (dataset wrappers included): role ``'train'``
    (:class:`CamVidVideoDataset` in train mode: ``label_stride``) or
    ``'eval'`` (consecutive :class:`CamVidVideoDataset` or
    :class:`CamVidDataset`: ``exclude_label_stride``)."""
    from .pair_sampling import resolve_mode
    out = []

    def walk(path, ds):
        if not hasattr(ds, 'get'):
            return
        name = _type_name(ds)
        if name == 'CamVidVideoDataset':
            try:
                mode = resolve_mode(ds.get('mode'),
                                    bool(ds.get('test_mode', False)))
            except ValueError:
                return  # the dataset itself names a bad mode
            out.append((path, ds, 'train' if mode == 'train' else 'eval'))
        elif name == 'CamVidDataset':
            out.append((path, ds, 'eval'))
        if hasattr(ds.get('dataset'), 'get'):
            walk(f'{path}.dataset', ds['dataset'])
        for key in ('datasets', 'sources'):  # ConcatDataset, MultiSource
            if isinstance(ds.get(key), (list, tuple)):
                for i, sub in enumerate(ds[key]):
                    walk(f'{path}.{key}.{i}', sub)

    for loader in _LOADERS:
        dl = cfg.get(loader)
        if hasattr(dl, 'get') and dl.get('dataset') is not None:
            walk(f'{loader}.dataset', dl['dataset'])
    return out


def _split_of(ds, role) -> Tuple[int, int]:
    """``(stride, offset)`` a dataset dict uses (``stride`` 1: no split)."""
    s_key, o_key = _SPLIT_FIELDS[role]
    if role == 'train':
        return ds.get(s_key, 1), ds.get(o_key, 0)
    stride = ds.get(s_key)
    return (1 if stride is None else stride), ds.get(o_key, 0)


def _describe(path, ds, role) -> str:
    s_key, o_key = _SPLIT_FIELDS[role]
    stride, offset = _split_of(ds, role)
    if role == 'eval' and stride == 1:
        stride = None
    return f'{path}.{s_key}={stride!r}, {path}.{o_key}={offset!r}'


def _frames_key(ds) -> Tuple:
    """The frames a dataset reads (data root and image folder)."""
    prefix = ds.get('data_prefix') or {}
    img = prefix.get('img_path', '') if hasattr(prefix, 'get') else ''
    return (osp.normpath(str(ds.get('data_root') or '')),
            osp.normpath(str(img or '')))


def _parse_split(value, where: str) -> Tuple[int, int]:
    if not hasattr(value, 'get') or 'stride' not in value:
        raise ValueError(f'{where} must be dict(stride=S, offset=O), got '
                         f'{value!r}')
    stride, offset = value['stride'], value.get('offset', 0)
    check_label_stride(where, 'stride', stride, 'offset', offset)
    return int(stride), int(offset)


def held_out_split(split, where: str = LABEL_SPLIT_KEY) -> Tuple[int, int]:
    """``(stride, offset)`` of the frames a ``label_split`` leaves out of
    evaluation: its own ``(stride, offset)``, or with
    ``held_out_stride=H`` every frame on stride ``H`` (same offset), a
    superset of the training labels when ``stride`` is a multiple of
    ``H``. This is how an oracle row labelling every ``H``-th frame and the
    baseline labelling every ``stride``-th are scored on the same frames.

    Raises:
        ValueError: ``stride`` not a multiple of ``held_out_stride`` (the
            evaluation would score labelled frames).
    """
    stride, offset = _parse_split(split, where)
    held = split.get('held_out_stride')
    if held is None:
        return stride, offset
    if not isinstance(held, int) or isinstance(held, bool) or held < 2 \
            or stride % held:
        raise ValueError(
            f'{where}.held_out_stride must be an int >= 2 dividing '
            f'{where}.stride={stride} (the held-out frames must include '
            f'every labelled one), got {held!r}')
    return held, offset % held


def check_label_split(cfg) -> None:
    """Fail when the held-out evaluation frames of a config are not the
    frames whose labels its training run leaves out.

    Every evaluation CamVid dataset (``exclude_label_stride`` /
    ``exclude_label_offset``) that reads the same frames (``data_root`` and
    ``data_prefix.img_path``) as a training :class:`CamVidVideoDataset`
    must exclude exactly that dataset's ``label_stride`` / ``label_offset``
    (``None`` for a training ``label_stride`` of 1), or exactly the
    held-out split that the config's ``label_split`` declares with
    ``held_out_stride`` (:func:`held_out_split`) for that training split.

    A top-level ``label_stride`` / ``label_offset`` (read by nothing) is
    refused as well.

    Raises:
        ValueError: naming both fields and the one override to use,
            ``label_split``.
    """
    found = _camvid_dataset_cfgs(cfg)
    stray = [k for k in ('label_stride', 'label_offset',
                         'exclude_label_stride', 'exclude_label_offset')
             if k in cfg]
    if found and stray:
        raise ValueError(
            f'top-level {", ".join(f"{k}={cfg[k]!r}" for k in stray)} in a '
            'config with CamVid datasets: nothing reads it (a base config\'s '
            'variables are resolved in the base). Set the split with '
            f'{LABEL_SPLIT_KEY}=dict(stride=S, offset=O) instead (in the '
            f'config, or --cfg-options {LABEL_SPLIT_KEY}.stride=S).')
    trains = [(p, d) for p, d, r in found if r == 'train']
    evals = [(p, d) for p, d, r in found if r == 'eval']
    split = cfg.get(LABEL_SPLIT_KEY)
    declared = None  # (train split, held-out split) of label_split
    if split is not None and split.get('held_out_stride') is not None:
        declared = (_parse_split(split, LABEL_SPLIT_KEY),
                    held_out_split(split))
    for tpath, tds in trains:
        for epath, eds in evals:
            if _frames_key(tds) != _frames_key(eds):
                continue
            pair = (_split_of(tds, 'train'), _split_of(eds, 'eval'))
            if pair[0] == pair[1] or pair == declared:
                continue
            stride, offset = _split_of(tds, 'train')
            raise ValueError(
                'label split mismatch: '
                f'{_describe(tpath, tds, "train")} but '
                f'{_describe(epath, eds, "eval")}: the evaluation would not '
                'score (only) the frames whose labels training leaves out. '
                f'Change the split with one override, {LABEL_SPLIT_KEY}='
                f'dict(stride=S, offset=O) (in a config, or --cfg-options '
                f'{LABEL_SPLIT_KEY}.stride=S), which sets both; the train '
                f'dataset now uses stride {stride}, offset {offset}.')


def apply_label_split(cfg) -> List[str]:
    """Write the config's ``label_split`` into its CamVid datasets, then
    :func:`check_label_split`.

    ``label_split = dict(stride=S, offset=O)`` (top level, as in
    ``configs/_base_/datasets/camvid_sparse.py``) is the one override of
    the sparse-label protocol: the training :class:`CamVidVideoDataset`
    gets ``label_stride=S, label_offset=O`` and every evaluation CamVid
    dataset ``exclude_label_stride=S`` (None for S = 1),
    ``exclude_label_offset=O``; with ``held_out_stride=H`` the evaluation
    excludes every ``H``-th frame instead (:func:`held_out_split`). A base
    config's variables are resolved in the base, so without this a child's
    ``label_split`` would not reach the dataloader dicts.

    A dataset field that differs from the split the base wrote
    (``_label_split_base_``) was set by hand and is kept; the check then
    fails if the fields disagree. ``tools/train.py`` and ``tools/test.py``
    call this after ``--cfg-options``.

    Returns:
        list[str]: the fields changed, ``'path.field=value'``.

    Raises:
        ValueError: a bad ``label_split``, or train and evaluation splits
            that disagree (see :func:`check_label_split`).
    """
    changed = []
    split = cfg.get(LABEL_SPLIT_KEY)
    if split is not None:
        want = dict(train=_parse_split(split, LABEL_SPLIT_KEY),
                    eval=held_out_split(split))
        base = cfg.get(LABEL_SPLIT_BASE_KEY)
        base = dict(train=_parse_split(base, LABEL_SPLIT_BASE_KEY),
                    eval=held_out_split(base, LABEL_SPLIT_BASE_KEY)) \
            if base is not None else None
        for path, ds, role in _camvid_dataset_cfgs(cfg):
            current = _split_of(ds, role)
            stride, offset = want[role]
            if current == (stride, offset):
                continue
            if base is not None and current != base[role]:
                continue  # set by hand: kept (and checked below)
            s_key, o_key = _SPLIT_FIELDS[role]
            value = stride if role == 'train' or stride > 1 else None
            ds[s_key] = value
            ds[o_key] = offset
            changed += [f'{path}.{s_key}={value!r}',
                        f'{path}.{o_key}={offset!r}']
    check_label_split(cfg)
    return changed
