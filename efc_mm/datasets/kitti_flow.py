"""KITTI frame pairs: unsupervised training and KITTI 2015 flow evaluation.

Why not mmflow's ``KITTI2015``: it lives in mmflow's registry and feeds
mmflow's pipeline (``FlowDataSample``, keys ``gt_flow_fw`` / ``gt_valid_fw``),
reads only ``flow_occ`` (no ``flow_noc``, so no occlusion / noc EPE) and has
no frame labels. EFC pairs must become :class:`PairDataSample` s (both
frames' ``gt_sem_seg``, pair metainfo) through the mmseg-scope pair
pipeline, so this dataset follows mmflow's file conventions (``image_2``,
``{id}_10.png`` / ``{id}_11.png``, ``flow_occ/{id}_10.png``) but is its own.

Modes:

* ``'train'`` (unsupervised): consecutive frames ``(idx, idx + t)``,
  t in ``frame_gaps``, of every scene, files matched by ``frame_regex``
  on the path relative to ``img_path``. Default regex: KITTI multi-view
  names ``{scene}_{idx:02d}.png`` (``data_scene_flow_multiview``); for KITTI
  raw use ``r'(?P<scene>.+)/image_02/data/(?P<idx>\\d+)\\.png$'``.
  Scenes in ``exclude_scenes`` (a list, or a text file with one scene id a
  line) are dropped. **The 2015 evaluation scenes must be excluded**: in
  the multi-view set, scene ids ``000000``-``000199`` of ``training`` *are*
  the 200 KITTI 2015 training pairs (frames 10/11), so train on
  ``testing/image_2`` or exclude all of training's scenes; for KITTI raw,
  exclude the 28 raw drives the 2015 training set was taken from (paper).
  Optional pseudo labels (the paper's segmentation targets on KITTI, from a
  Cityscapes model) in ``seg_map_path`` with the frames' relative names.
* ``'eval'``: KITTI 2015 training: ``image_2/{id}_10.png``, ``_11.png``,
  ``gt_flow_fw`` + valid from ``flow_occ/{id}_10.png`` (all pixels),
  ``gt_occ_fw`` = valid in ``flow_occ`` and not in ``flow_noc`` (so the noc
  EPE mask ``valid * (1 - occ)`` is ``flow_noc``'s valid). No backward flow,
  no labels (all 255). Default when ``test_mode=True``.
"""
import os.path as osp
import re
from collections import defaultdict
from typing import List, Optional, Sequence, Union

from mmseg.datasets import BaseSegDataset, CityscapesDataset

from ..registry import DATASETS
from .pair_sampling import scan_files, verify_dataset

MULTIVIEW_FRAME_REGEX = r'^(?P<scene>.+)_(?P<idx>\d+)\.png$'
# the camera folder is part of the scene id, so image_02 and image_03 frames
# of a drive are two sequences (never paired with each other)
RAW_FRAME_REGEX = r'^(?P<scene>.+/image_0[23])/data/(?P<idx>\d+)\.png$'


@DATASETS.register_module()
class KITTIFlowPairDataset(BaseSegDataset):
    """KITTI pairs for unsupervised flow training and flow evaluation.

    Args:
        data_root (str): root of the KITTI tree.
        data_prefix (dict): ``img_path`` (train: e.g.
            ``'testing/image_2'``; eval: ``'training/image_2'``), eval also
            ``flow_occ_path`` (``'training/flow_occ'``) and
            ``flow_noc_path`` (``'training/flow_noc'``); train optionally
            ``seg_map_path`` (pseudo labels).
        mode (str, optional): ``'train'`` or ``'eval'``.
        frame_regex (str): train-mode file pattern with groups ``scene``
            and ``idx``, matched against paths relative to ``img_path``.
        frame_gaps (Sequence[int]): train-mode gaps. Defaults to (1, ).
        exclude_scenes (list[str] | str, optional): scene ids to drop, or a
            text file listing them (relative to ``data_root``).
        img_suffix (str): Defaults to '.png'.
        verify (bool): decode every frame and label once at build and list
            every bad file in one error (see ``tools/misc/check_dataset.py``).
        **kwargs: :class:`BaseSegDataset` arguments.
    """

    METAINFO = CityscapesDataset.METAINFO

    def __init__(self,
                 data_root: Optional[str] = None,
                 data_prefix: dict = dict(img_path='training/image_2',
                                          flow_occ_path='training/flow_occ',
                                          flow_noc_path='training/flow_noc'),
                 mode: Optional[str] = None,
                 frame_regex: str = MULTIVIEW_FRAME_REGEX,
                 frame_gaps: Sequence[int] = (1, ),
                 exclude_scenes: Union[None, str, Sequence[str]] = None,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 test_mode: bool = False,
                 verify: bool = False,
                 **kwargs) -> None:
        mode = mode or ('eval' if test_mode else 'train')
        if mode not in ('train', 'eval'):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        if not frame_gaps or min(frame_gaps) < 1:
            raise ValueError(f'frame_gaps must be >= 1, got {frame_gaps}')
        self.mode = mode
        self.frame_regex = re.compile(frame_regex)
        self.frame_gaps = tuple(int(g) for g in frame_gaps)
        if isinstance(exclude_scenes, str):
            path = exclude_scenes
            if data_root and not osp.isabs(path):
                path = osp.join(data_root, path)
            if not osp.isfile(path):
                raise FileNotFoundError(f'exclude list not found: {path}')
            with open(path) as f:
                exclude_scenes = [ln.strip() for ln in f if ln.strip()]
        self.exclude_scenes = set(exclude_scenes or ())
        super().__init__(data_root=data_root, data_prefix=data_prefix,
                         img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         test_mode=test_mode, **kwargs)
        if verify:
            verify_dataset(self)

    def _info(self, img1: str, img2: str, seq: str, gap: int,
              seg1=None, seg2=None) -> dict:
        return dict(
            img_path=img1, img2_path=img2, seg_map_path=seg1,
            seg_map2_path=seg2, frame_gap=gap,
            labelled=(seg1 is not None, seg2 is not None), sequence=seq,
            label_map=self.label_map,
            reduce_zero_label=self.reduce_zero_label,
            num_classes=len(self._metainfo['classes']),
            ignore_index=self.ignore_index, seg_fields=[])

    def load_data_list(self) -> List[dict]:
        img_root = self.data_prefix.get('img_path')
        if not img_root:
            raise ValueError("data_prefix['img_path'] is required")
        return (self._load_eval(img_root) if self.mode == 'eval' else
                self._load_train(img_root))

    def _load_eval(self, img_root: str) -> List[dict]:
        occ_root = self.data_prefix.get('flow_occ_path')
        noc_root = self.data_prefix.get('flow_noc_path')
        if not occ_root:
            raise ValueError("eval mode needs data_prefix['flow_occ_path']")
        items = []
        for rel in scan_files(img_root, '_10' + self.img_suffix):
            if osp.dirname(rel):
                continue
            sid = rel[:-len('_10' + self.img_suffix)]
            img1 = osp.join(img_root, rel)
            img2 = osp.join(img_root, f'{sid}_11{self.img_suffix}')
            flow = osp.join(occ_root, f'{sid}_10.png')
            for path, what in ((img2, 'second frame'),
                               (flow, 'flow_occ ground truth')):
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'{what} of KITTI pair {img1} not found: {path}')
            info = self._info(img1, img2, sid, 1)
            info['flow_fw_path'] = flow
            if noc_root:
                noc = osp.join(noc_root, f'{sid}_10.png')
                if not osp.isfile(noc):
                    raise FileNotFoundError(
                        f'flow_noc ground truth of {img1} not found: {noc}')
                info['flow_noc_fw_path'] = noc
            items.append(info)
        if not items:
            raise ValueError(f'no KITTI pairs ({{id}}_10{self.img_suffix}) '
                             f'under {img_root}')
        return items

    def _load_train(self, img_root: str) -> List[dict]:
        seg_root = self.data_prefix.get('seg_map_path')
        scenes = defaultdict(dict)
        for rel in scan_files(img_root, self.img_suffix):
            m = self.frame_regex.match(rel.replace(osp.sep, '/'))
            if m is None:
                continue
            scene = m['scene']
            if scene in self.exclude_scenes:
                continue
            scenes[scene][int(m['idx'])] = rel
        items = []
        for scene in sorted(scenes):
            frames = scenes[scene]
            for idx in sorted(frames):
                for gap in self.frame_gaps:
                    if idx + gap not in frames:
                        continue
                    r1, r2 = frames[idx], frames[idx + gap]
                    segs = [None, None]
                    if seg_root:
                        segs = [osp.join(seg_root, r[:-len(self.img_suffix)]
                                         + self.seg_map_suffix)
                                for r in (r1, r2)]
                    info = self._info(osp.join(img_root, r1),
                                      osp.join(img_root, r2), scene, gap,
                                      *segs)
                    info['frame_ids'] = (idx, idx + gap)
                    items.append(info)
        if not items:
            raise ValueError(
                f'no training pairs under {img_root} (regex '
                f'{self.frame_regex.pattern!r}, gaps {self.frame_gaps}, '
                f'{len(self.exclude_scenes)} scenes excluded)')
        return items
