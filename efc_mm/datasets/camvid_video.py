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


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """Single CamVid frames for validation / test mIoU (11 classes, SegNet
    void 11 mapped to 255 through ``label_map``, which mmseg's
    ``LoadAnnotations`` applies)."""

    METAINFO = CAMVID_METAINFO

    def __init__(self, img_suffix: str = '.png',
                 seg_map_suffix: str = '.png', **kwargs) -> None:
        super().__init__(img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        for info in data_list:
            info['label_map'] = dict(CAMVID_LABEL_MAP)
        return data_list


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
    * ``'consecutive'``: every pair of successive labelled frames of each
      sequence (both labelled; for temporal-consistency evaluation on the
      15 Hz val sequence). Default when ``test_mode=True``.

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
                for a, b in zip(frames[:-1], frames[1:]):
                    items.append(self._pair(seq, a, b))
                continue
            for i, fr in enumerate(frames):
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
                else:
                    nbrs = [frames[j] for j in (i - 1, i + 1)
                            if 0 <= j < len(frames)]
                    if not nbrs:
                        raise ValueError(
                            f'labelled frame {fr["img_path"]} is the only '
                            f'frame of sequence {seq} and no raw_frames_dir '
                            'is given: it has no neighbour to pair with')
                items.append(dict(seq=seq, frame=fr, neighbours=nbrs))
        return items

    def _pair(self, seq: str, a: dict, b: dict) -> dict:
        """Data info of frames ``a`` (earlier) and ``b``."""
        return self._make_pair_info(
            (a['img_path'], b['img_path']),
            (a.get('seg_map_path'), b.get('seg_map_path')),
            (a['frame'], b['frame']), seq, label_map=dict(CAMVID_LABEL_MAP))

    def _draw_item(self, item: dict, slot: int,
                   rng: np.random.Generator) -> dict:
        """Train item: labelled frame ``item['frame']`` and a drawn
        neighbour (raw frame at ``L -+ t`` or an adjacent labelled frame)."""
        lab = item['frame']
        if self.raw_frames_dir:
            t = int(rng.integers(1, self.max_gap + 1))
            f = lab['frame'] + (t if rng.integers(2) else -t)
            nbr = dict(frame=f, img_path=self._raw_path(item['seq'], f),
                       seg_map_path=None)
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
                labs.add(nbr['seg_map_path'])
            if self.raw_frames_dir:
                for t in range(1, self.max_gap + 1):
                    for f in (fr['frame'] - t, fr['frame'] + t):
                        imgs.add(self._raw_path(item['seq'], f))
        for seq, (imgs, labs) in sorted(groups.items()):
            yield f'sequence {seq}', sorted(imgs), sorted(labs)
