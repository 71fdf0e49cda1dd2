"""Inference API: build a model, segment images, flow of pairs, videos.

Works for EFC configs (``EFCSegmentor``) and for plain mmseg configs
(``EncoderDecoder``; then only :func:`inference_segmentor` and
``inference_video(..., with_flow=False)`` apply).
"""
import copy
import os.path as osp
import warnings
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from ..structures import PairDataSample
from .video_io import FrameSource

__all__ = ['init_model', 'inference_segmentor', 'inference_pair',
           'inference_video', 'pair_sample_to_numpy',
           'single_frame_test_pipeline', 'DEFAULT_TEST_PIPELINE',
           'RANDOM_WEIGHTS_WARNING', 'warn_random_weights']

ImageLike = Union[str, np.ndarray]

#: what :func:`init_model` (and the demos, louder) say without a checkpoint
RANDOM_WEIGHTS_WARNING = (
    'no checkpoint given for {config}: the model has RANDOM weights, its '
    'segmentation, flow and occlusion are meaningless (pass a checkpoint '
    'trained with this config)')


def warn_random_weights(config, stream=None) -> None:
    """The loud form of :data:`RANDOM_WEIGHTS_WARNING` (a banner on
    ``stream``, default stderr) that the demos print without a
    checkpoint."""
    import sys
    bar = '!' * 72
    print(f'{bar}\nWARNING: {RANDOM_WEIGHTS_WARNING.format(config=config)}'
          f'\n{bar}', file=stream or sys.stderr)


#: single-frame test pipeline used when a config has none usable
#: (no resize: predictions are made at the input resolution)
DEFAULT_TEST_PIPELINE = [dict(type='LoadImageFromFile'),
                         dict(type='PackSegInputs')]


# --------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------
def _load_config(config) -> Config:
    if isinstance(config, (str, Path)):
        config = str(config)
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file not found: {config}')
        return Config.fromfile(config)
    if isinstance(config, Config):
        return copy.deepcopy(config)
    raise TypeError('config must be a file name or an mmengine Config, got '
                    f'{type(config).__name__}')


def single_frame_test_pipeline(cfg: Config) -> list:
    """The config's ``test_pipeline`` if it is a single-frame pipeline
    (no ``Pair*`` transform, starts with an image loader), else
    :data:`DEFAULT_TEST_PIPELINE`. ``LoadAnnotations`` is dropped."""
    pipeline = cfg.get('test_pipeline', None)
    if not isinstance(pipeline, (list, tuple)) or not pipeline:
        return copy.deepcopy(DEFAULT_TEST_PIPELINE)
    types = [str(t.get('type', '')) for t in pipeline]
    if any('Pair' in t for t in types) or 'LoadImage' not in types[0]:
        return copy.deepcopy(DEFAULT_TEST_PIPELINE)
    return [copy.deepcopy(dict(t)) for t in pipeline
            if t.get('type') != 'LoadAnnotations']


def _default_dataset_meta(cfg: Config, model) -> dict:
    """Classes/palette when the checkpoint has none: the test/val dataset
    class's METAINFO if its class count matches, else Cityscapes colours
    (extended) and generic names."""
    from mmseg.registry import DATASETS

    from ..visualization import get_palette
    num = int(getattr(model.decode_head, 'num_classes', 19))
    for key in ('test_dataloader', 'val_dataloader'):
        try:
            ds_type = cfg[key]['dataset']['type']
            meta = dict(DATASETS.get(ds_type).METAINFO)
            if len(meta.get('classes', ())) == num and 'palette' in meta:
                return dict(classes=tuple(meta['classes']),
                            palette=[list(p) for p in meta['palette']])
        except Exception:  # noqa: BLE001 - no usable dataset entry
            continue
    if num == 19:
        from mmseg.datasets import CityscapesDataset
        return dict(CityscapesDataset.METAINFO)
    return dict(classes=tuple(f'class{i}' for i in range(num)),
                palette=get_palette(num).tolist())


def init_model(config, checkpoint: Optional[str] = None,
               device: str = 'cpu', cfg_options: Optional[dict] = None):
    """Build a segmentor (EFC or plain mmseg) for inference.

    As :func:`mmseg.apis.init_model` (eval mode, ``model.cfg`` and
    ``model.dataset_meta`` set), plus: clear errors for missing files, no
    pretrained/``init_cfg`` download, and ``model.cfg.test_pipeline``
    replaced by a single-frame pipeline when the config's is for pairs or
    missing (see :func:`single_frame_test_pipeline`).

    Args:
        config (str | Path | Config): config file or object.
        checkpoint (str, optional): weights; None = random init (with a
            ``UserWarning``: the predictions are then meaningless).
        device (str): e.g. ``'cpu'``, ``'cuda:0'``.
        cfg_options (dict, optional): overrides merged into the config.

    Raises:
        FileNotFoundError: the config or checkpoint file does not exist.
    """
    from mmseg.apis import init_model as mmseg_init_model
    cfg = _load_config(config)
    if checkpoint is not None and not osp.isfile(str(checkpoint)):
        raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'config {config} has no "model" entry')
    if isinstance(cfg.model.get('backbone'), dict):
        cfg.model.backbone.init_cfg = None
    cfg.test_pipeline = single_frame_test_pipeline(cfg)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from ..compat import trusted_checkpoint_loading  # torch>=2.6, mmengine
    with trusted_checkpoint_loading():  # 0.10.7: a trusted, named file
        model = mmseg_init_model(cfg, None if checkpoint is None
                                 else str(checkpoint), device=device)
    if getattr(model, 'dataset_meta', None) is None:
        model.dataset_meta = _default_dataset_meta(cfg, model)
    if checkpoint is None:
        warnings.warn(RANDOM_WEIGHTS_WARNING.format(config=config),
                      UserWarning, stacklevel=2)
    return model


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def _pipeline(model, from_array: bool) -> Compose:
    """The model's single-frame test pipeline (cached per input kind)."""
    cache = model.__dict__.setdefault('_efc_pipelines', {})
    if from_array not in cache:
        cfg = getattr(model, 'cfg', None)
        steps = single_frame_test_pipeline(cfg) if cfg is not None else \
            copy.deepcopy(DEFAULT_TEST_PIPELINE)
        steps[0] = dict(steps[0], type='LoadImageFromNDArray'
                        if from_array else 'LoadImageFromFile')
        cache[from_array] = Compose(steps)
    return cache[from_array]


def _check_finite(img: np.ndarray, name: str) -> None:
    """Refuse an image array with NaN / inf values: the network would
    return a confident, meaningless answer for it."""
    if np.issubdtype(img.dtype, np.floating) or np.issubdtype(
            img.dtype, np.complexfloating):
        bad = ~np.isfinite(img)
        if bad.any():
            ys, xs = np.nonzero(bad.any(axis=-1))
            raise ValueError(
                f'{name}: the image array holds {int(bad.sum())} non-finite '
                f'values (NaN / inf) in {len(ys)} pixels, e.g. at pixel '
                f'(y={ys[0]}, x={xs[0]}); '
                'give a finite BGR image (uint8, or float in the range the '
                'model was trained on)')


def _prepare(model, img: ImageLike, name: str = 'img') -> dict:
    """One frame through the test pipeline -> ``dict(inputs, data_samples)``.

    Unlike mmseg's ``_preprare_data`` this does not rewrite ``model.cfg``.
    ``name`` names the argument in error messages.
    """
    if isinstance(img, (str, Path)):
        img = str(img)
        if not osp.isfile(img):
            raise FileNotFoundError(f'image file not found: {img}')
        data = _pipeline(model, False)(dict(img_path=img))
        inputs = data['inputs']
        if inputs.is_floating_point() and not torch.isfinite(inputs).all():
            raise ValueError(f'{name} ({img}): the decoded image holds '
                             'non-finite values (NaN / inf)')
        return data
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'{name} must be a file path or an (H, W, 3) BGR '
                         f'array, got {getattr(img, "shape", type(img))}')
    _check_finite(img, name)
    return _pipeline(model, True)(dict(img=img))


def _unwrap(model):
    return getattr(model, 'module', model)


def _check_flow_model(model) -> None:
    if not getattr(_unwrap(model), 'with_flow', False):
        raise ValueError(
            f'model {type(_unwrap(model)).__name__} has no flow branch '
            '(flow_decoder); flow inference needs an EFC config with a '
            'flow_decoder, e.g. configs/psp_efc_cityscapes.py')


def _describe(img: ImageLike) -> str:
    return img if isinstance(img, (str, Path)) else 'array'


# --------------------------------------------------------------------------
# inference
# --------------------------------------------------------------------------
def inference_segmentor(model, img: ImageLike):
    """Segment one image (path or BGR array) with the plain segmentor path.

    Returns:
        SegDataSample: ``pred_sem_seg`` ``(1, H, W)`` and ``seg_logits`` at
        the input resolution (what ``mmseg.apis.inference_model`` returns).

    Raises:
        FileNotFoundError: the image file does not exist.
        ValueError: not an ``(H, W, 3)`` image, or a float image with NaN /
            inf values (the message names the input and a bad pixel).
    """
    data = _prepare(model, img, 'img')
    batch = dict(inputs=[data['inputs']],
                 data_samples=[data['data_samples']])
    with torch.no_grad():
        return model.test_step(batch)[0]


def _pair_sample(model, img1: ImageLike, img2: ImageLike):
    """Pair batch of two frames (each through the test pipeline)."""
    d1, d2 = _prepare(model, img1, 'img1'), _prepare(model, img2, 'img2')
    s1, s2 = d1['data_samples'], d2['data_samples']
    if tuple(s1.ori_shape) != tuple(s2.ori_shape):
        raise ValueError(
            f'the two frames differ in size: img1 ({_describe(img1)}) is '
            f'{tuple(s1.ori_shape)}, img2 ({_describe(img2)}) is '
            f'{tuple(s2.ori_shape)} (H, W); resize them to one size')
    sample = PairDataSample(metainfo=dict(
        ori_shape=s1.ori_shape, img_shape=s1.img_shape, frame_gap=1))
    sample.frame1, sample.frame2 = s1, s2
    inputs = torch.stack([d1['inputs'], d2['inputs']], dim=0)
    return dict(inputs=[inputs], data_samples=[sample])


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy()


def inference_pair(model, img1: ImageLike,
                   img2: ImageLike) -> Dict[str, np.ndarray]:
    """Flow, occlusion and segmentation of a pair of frames.

    Args:
        model: an EFC model (``with_flow``) from :func:`init_model`.
        img1, img2: frames i and i+t (paths or BGR arrays, same size).

    Returns:
        dict of numpy arrays at the input resolution: ``flow_fw``
        (i -> i+t) and ``flow_bw`` (i+t -> i) ``(H, W, 2)`` float32 pixels
        (channel 0 = x); ``occ_fw``, ``occ_bw`` ``(H, W)`` float32 in
        [0, 1] (1 = occluded); ``seg1``, ``seg2`` ``(H, W)`` int64 labels.

    Raises:
        ValueError: the model has no flow branch, the frames differ in
            size (both named), or a frame holds NaN / inf (named).
        FileNotFoundError: an image path does not exist.
    """
    _check_flow_model(model)
    batch = _pair_sample(model, img1, img2)
    with torch.no_grad():
        out = model.test_step(batch)[0]
    return pair_sample_to_numpy(out)


def pair_sample_to_numpy(out) -> Dict[str, np.ndarray]:
    """A predicted :class:`PairDataSample` as the dict of
    :func:`inference_pair` (``flow_fw/bw`` ``(H, W, 2)``, ``occ_fw/bw``,
    ``seg1``, ``seg2`` ``(H, W)``)."""
    for field in ('pred_flow_fw', 'pred_flow_bw', 'pred_occ_fw',
                  'pred_occ_bw'):
        if field not in out:
            raise KeyError(f'pair prediction has no {field}: was the model '
                           'run in pair predict mode with a flow branch?')
    from ..visualization import pair_sample_to_maps
    res = pair_sample_to_maps(out)['pred']
    return {k: v.astype(np.int64 if k.startswith('seg') else np.float32)
            for k, v in res.items()}


def _frame_result(index, name, frame, seg, flow=None, occ=None,
                  flow_to=None) -> dict:
    return dict(index=index, name=name, frame=frame, seg=seg, flow=flow,
                occ=occ, flow_to=flow_to)


def _seg_only(model, frame: np.ndarray) -> np.ndarray:
    out = inference_segmentor(model, frame)
    return _np(out.pred_sem_seg.data)[0].astype(np.int64)


def _iter_video(model, frames, with_flow: bool) -> Iterator[dict]:
    """Per-frame results; with flow, each consecutive pair runs once."""
    prev = None   # (index, name, frame)
    last = None   # (index, name, frame, pair result)
    for index, (name, frame) in enumerate(frames):
        if not with_flow:
            yield _frame_result(index, name, frame, _seg_only(model, frame))
            continue
        if prev is not None:
            out = inference_pair(model, prev[2], frame)
            yield _frame_result(*prev, out['seg1'], out['flow_fw'],
                                out['occ_fw'], 'next')
            last = (index, name, frame, out)
        prev = (index, name, frame)
    if not with_flow or prev is None:
        return
    if last is None:  # a single frame: no pair, no flow
        yield _frame_result(*prev, _seg_only(model, prev[2]))
        return
    index, name, frame, out = last
    yield _frame_result(index, name, frame, out['seg2'], out['flow_bw'],
                        out['occ_bw'], 'previous')


def inference_video(model, source: str, with_flow: bool = True,
                    progress: bool = True, max_frames: Optional[int] = None,
                    resize: Optional[Sequence[int]] = None
                    ) -> Iterator[dict]:
    """Run the model over a video file or a folder of frames.

    The source is checked immediately (errors are raised by this call,
    not on the first ``next``); frames are then processed lazily.

    Args:
        model: from :func:`init_model` (EFC for ``with_flow``).
        source (str): video file (OpenCV), folder of frames (natural sort
            of the image files) or one image.
        with_flow (bool): also predict flow and occlusion.
        progress (bool): tqdm progress bar (on stderr).
        max_frames (int, optional): stop after this many frames.
        resize (tuple, optional): ``(width, height)`` of the frames.

    Yields:
        dict per frame, in order: ``index``, ``name``, ``frame`` (BGR
        uint8, as fed to the model), ``seg`` ``(H, W)`` int64, and with
        flow ``flow`` ``(H, W, 2)``, ``occ`` ``(H, W)`` and ``flow_to``:
        ``'next'`` (flow frame -> next frame, from the pair (t, t+1)) or,
        for the last frame, ``'previous'`` (its backward flow). Without
        flow (or a one-frame source) these three are None.

    Raises:
        FileNotFoundError: ``source`` does not exist.
        ValueError: no frame could be decoded from a video file, a folder
            holds no image, or ``with_flow`` with a model without flow.
    """
    if with_flow:
        _check_flow_model(model)
    frames = FrameSource(source, max_frames=max_frames, resize=resize)
    if progress:
        from tqdm import tqdm
        frames = tqdm(frames, total=len(frames) or None, unit='frame',
                      desc=osp.basename(osp.normpath(source)))
    return _iter_video(model, frames, with_flow)
