"""Segmentation overlays and side-by-side panels (BGR uint8, OpenCV)."""
from typing import List, Optional, Sequence

import cv2
import numpy as np

from .flow_vis import as_flow_hw2, flow_to_color, occlusion_to_image
from .keys import class_legend, flow_key_strip, occlusion_scale_strip

__all__ = ['CITYSCAPES_PALETTE', 'get_palette', 'seg_to_color',
           'overlay_seg', 'add_title', 'make_panel', 'make_pair_panel',
           'to_numpy_image', 'title_height', 'footer_height', 'PAIR_KEYS']

#: The 19 Cityscapes train-id colours, RGB (as mmseg's CityscapesDataset).
CITYSCAPES_PALETTE = (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156),
    (190, 153, 153), (153, 153, 153), (250, 170, 30), (220, 220, 0),
    (107, 142, 35), (152, 251, 152), (70, 130, 180), (220, 20, 60),
    (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100), (0, 80, 100),
    (0, 0, 230), (119, 11, 32))


def get_palette(num_classes: int, dataset_meta: Optional[dict] = None
                ) -> np.ndarray:
    """``(num_classes, 3)`` uint8 RGB palette.

    ``dataset_meta['palette']`` when it is given and long enough, else the
    Cityscapes palette, extended with fixed pseudo-random colours
    (seed 42) when more classes are needed.
    """
    pal = None
    if dataset_meta and dataset_meta.get('palette') is not None:
        pal = np.asarray(dataset_meta['palette'], dtype=np.uint8).reshape(-1, 3)
        if len(pal) < num_classes:
            raise ValueError(f"dataset_meta['palette'] has {len(pal)} colours"
                             f' but {num_classes} classes are drawn')
    if pal is None:
        pal = np.asarray(CITYSCAPES_PALETTE, dtype=np.uint8)
        if len(pal) < num_classes:
            rng = np.random.RandomState(42)
            extra = rng.randint(0, 256, (num_classes - len(pal), 3))
            pal = np.concatenate([pal, extra.astype(np.uint8)])
    return pal[:max(num_classes, 1)]


def to_numpy_image(x) -> np.ndarray:
    """Tensor/array ``(H, W)`` / ``(1, H, W)`` -> numpy ``(H, W)``."""
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim == 3 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 2:
        raise ValueError(f'expected a (H, W) or (1, H, W) map, got shape '
                         f'{x.shape}')
    return x


def _resolve_palette(seg: np.ndarray, palette, dataset_meta) -> np.ndarray:
    """The palette to draw ``seg`` with: ``palette``, else the dataset's,
    else Cityscapes (extended to the largest label below 255)."""
    if palette is None:
        valid = seg[(seg >= 0) & (seg < 255)]
        n = int(valid.max()) + 1 if valid.size else 1
        if dataset_meta and dataset_meta.get('palette') is not None:
            n = len(dataset_meta['palette'])
        palette = get_palette(n, dataset_meta)
    return np.asarray(palette, dtype=np.uint8).reshape(-1, 3)


def seg_to_color(seg, palette: Optional[np.ndarray] = None,
                 dataset_meta: Optional[dict] = None) -> np.ndarray:
    """Label map ``(H, W)`` -> ``(H, W, 3)`` uint8 **BGR** colours.

    Labels outside the palette (e.g. 255 = ignore) are black.
    """
    seg = to_numpy_image(seg).astype(np.int64)
    palette = _resolve_palette(seg, palette, dataset_meta)
    out = np.zeros(seg.shape + (3, ), np.uint8)
    known = (seg >= 0) & (seg < len(palette))
    out[known] = palette[seg[known]][:, ::-1]
    return out


def overlay_seg(image: np.ndarray, seg, palette=None,
                dataset_meta: Optional[dict] = None,
                alpha: float = 0.5) -> np.ndarray:
    """Blend a label map over a BGR image: ``(1 - alpha) img + alpha col``.

    Pixels with labels outside the palette (ignore) keep the image.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    seg = to_numpy_image(seg)
    image = _check_image(image)
    if seg.shape != image.shape[:2]:
        raise ValueError(f'seg map {seg.shape} and image '
                         f'{image.shape[:2]} differ in size')
    seg = seg.astype(np.int64)
    palette = _resolve_palette(seg, palette, dataset_meta)
    color = seg_to_color(seg, palette)
    blend = (1 - alpha) * image.astype(np.float64) + alpha * color
    out = np.round(blend).astype(np.uint8)
    ignore = (seg < 0) | (seg >= len(palette))
    out[ignore] = image[ignore]
    return out


def _check_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError('image must be (H, W, 3) uint8 BGR, got '
                         f'{image.shape} {image.dtype}')
    return image


def add_title(tile: np.ndarray, title: str, height: int = 0) -> np.ndarray:
    """Put a black title strip with white text on top of ``tile``.

    ``height`` 0 = automatic (about 1/8 of the tile, 12-28 px).
    """
    h, w = tile.shape[:2]
    height = height or int(np.clip(h // 8, 12, 28))
    strip = np.zeros((height, w, 3), np.uint8)
    if title:
        scale = height / 30.0
        (tw, _), _ = cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        if tw > w - 2:  # shrink to fit the tile width
            scale *= (w - 2) / max(tw, 1)
        cv2.putText(strip, title, (1, int(height * 0.75)),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return np.concatenate([strip, tile], axis=0)


def _fit(tile: np.ndarray, size) -> np.ndarray:
    """Nearest-resize a colour tile to ``size = (h, w)`` if needed."""
    h, w = size
    if tile.shape[:2] == (h, w):
        return tile
    return cv2.resize(tile, (w, h), interpolation=cv2.INTER_NEAREST)


def title_height(h: int) -> int:
    """Height of the title strip above a tile of height ``h``."""
    return int(np.clip(h // 8, 12, 28))


def footer_height(h: int) -> int:
    """Height of the key strip below a row of tiles of height ``h``."""
    return int(np.clip(h // 6, 14, 28))


def _max_radius(*flows) -> Optional[float]:
    """Largest finite vector length of the given flows (None: all zero or
    no flow)."""
    radii = []
    for f in flows:
        if f is None:
            continue
        f = as_flow_hw2(f)
        f = np.where(np.isfinite(f), f, 0.0)
        if f.size:
            radii.append(float(np.sqrt((f ** 2).sum(-1)).max()))
    return max(radii) if radii and max(radii) > 0 else None


def _resize_flow(flow, size) -> np.ndarray:
    """``(H, W, 2)`` flow resized to ``size = (h, w)`` with its vectors
    scaled by the size ratios (so magnitudes stay in output pixels)."""
    flow = as_flow_hw2(flow)
    h, w = size
    if flow.shape[:2] == (h, w):
        return flow
    sy, sx = h / flow.shape[0], w / flow.shape[1]
    out = cv2.resize(flow.astype(np.float32), (w, h),
                     interpolation=cv2.INTER_NEAREST).astype(np.float64)
    out[..., 0] *= sx
    out[..., 1] *= sy
    return out


def _na_tile(size) -> np.ndarray:
    """Dark grey tile with ``n/a`` (a map that is not available)."""
    h, w = size
    tile = np.full((h, w, 3), 40, np.uint8)
    scale = max(min(h, w) / 80.0, 0.3)
    (tw, th), _ = cv2.getTextSize('n/a', cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.putText(tile, 'n/a', ((w - tw) // 2, (h + th) // 2),
                cv2.FONT_HERSHEY_SIMPLEX, scale, (200, 200, 200), 1,
                cv2.LINE_AA)
    return tile


def _seg_labels(*segs) -> set:
    labels = set()
    for s in segs:
        if s is not None:
            labels.update(int(v) for v in np.unique(to_numpy_image(s)))
    return labels


def _legend_column(height: int, segs, palette, dataset_meta, title_h: int
                   ) -> Optional[np.ndarray]:
    """The class legend column of a panel (title ``classes``), or None
    when nothing is segmented or the classes do not fit ``height``."""
    segs = [s for s in segs if s is not None]
    if not segs:
        return None
    present = _seg_labels(*segs)
    if palette is None:
        seg_all = np.concatenate([to_numpy_image(s).ravel() for s in segs])
        palette = _resolve_palette(seg_all.astype(np.int64), None,
                                   dataset_meta)
    palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    classes = None
    if dataset_meta and dataset_meta.get('classes') is not None:
        classes = [str(c) for c in dataset_meta['classes']]
    if classes is None or len(classes) > len(palette):
        classes = [str(k) for k in range(len(palette))]
    legend = class_legend(classes, palette[:len(classes)],
                          height - title_h, present=present)
    if legend is None:
        return None
    return add_title(legend, 'classes', title_h)


def _row(tiles, size, max_flow: Optional[float], keys: bool) -> np.ndarray:
    """One row: ``tiles`` = ``[(kind, tile, title)]`` (each ``size``),
    titles above; with ``keys`` and a flow / occlusion tile, a key strip
    below (flow: colour-wheel key and magnitude of full saturation;
    occlusion: 0..1 scale)."""
    h, w = size
    th = title_height(h)
    cols = [add_title(t, n, th) for _, t, n in tiles]
    kinds = [k for k, _, _ in tiles]
    if keys and ('flow' in kinds or 'occ' in kinds):
        fh = footer_height(h)
        for i, kind in enumerate(kinds):
            if kind == 'flow':
                foot = flow_key_strip(w, fh, max_flow)
            elif kind == 'occ':
                foot = occlusion_scale_strip(w, fh)
            else:
                foot = np.zeros((fh, w, 3), np.uint8)
            cols[i] = np.concatenate([cols[i], foot], axis=0)
    return np.concatenate(cols, axis=1)


def _with_legend(panel: np.ndarray, segs, palette, dataset_meta,
                 title_h: int) -> np.ndarray:
    legend = _legend_column(panel.shape[0], segs, palette, dataset_meta,
                            title_h)
    if legend is None:
        return panel
    return np.concatenate([panel, legend], axis=1)


def _flow_scale(max_flow: Optional[float], *flows) -> float:
    """The colour scale actually used: ``max_flow`` or the largest vector
    of ``flows`` (1 px when all are zero, which draws them white)."""
    if max_flow is not None:
        if not max_flow > 0:
            raise ValueError(f'max_flow must be > 0, got {max_flow}')
        return float(max_flow)
    return _max_radius(*flows) or 1.0


def make_panel(image: np.ndarray,
               seg=None,
               flow=None,
               occ=None,
               palette=None,
               dataset_meta: Optional[dict] = None,
               max_flow: Optional[float] = None,
               alpha: float = 0.5,
               titles: Optional[Sequence[str]] = None,
               with_image: bool = False,
               keys: bool = True,
               legend: bool = True) -> np.ndarray:
    """Side-by-side panel: [image |] segmentation overlay | flow | occlusion
    [| class legend].

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 BGR frame.
        seg: ``(H, W)`` label map (None: the tile is left out).
        flow: ``(H, W, 2)`` / ``(2, H, W)`` flow in px (None: left out),
            drawn with :func:`flow_to_color`: ``max_flow`` px is full
            colour; None = the largest vector of this flow.
        occ: ``(H, W)`` occlusion in [0, 1] (None: left out).
        palette, dataset_meta: label colours (RGB) and class names, see
            :func:`seg_to_color`; Cityscapes colours by default.
        alpha (float): overlay opacity.
        titles (list[str], optional): one title per drawn tile, in order;
            default ``image``, ``segmentation``, ``flow``, ``occlusion``.
        with_image (bool): also show the raw frame first.
        keys (bool): a strip below the tiles (when a flow or occlusion
            tile is drawn) with the flow colour-wheel key and the magnitude
            of full colour (:func:`~.keys.flow_key_strip`) and the 0..1
            occlusion scale (:func:`~.keys.occlusion_scale_strip`).
        legend (bool): a class legend column on the right when a
            segmentation is drawn and all classes fit the panel height
            (:func:`~.keys.class_legend`).

    Returns:
        np.ndarray: ``(title_h + H [+ key_h], n_tiles * W [+ legend_w],
        3)`` uint8 BGR (:func:`title_height`, :func:`footer_height`). Maps
        of a different size than the image are nearest-resized to it
        (flow vectors rescaled).
    """
    image = _check_image(image)
    size = image.shape[:2]
    tiles: List[tuple] = []
    if with_image:
        tiles.append(('image', image, 'image'))
    if seg is not None:
        seg = to_numpy_image(seg)
        if seg.shape != size:
            seg = cv2.resize(seg.astype(np.int32), (size[1], size[0]),
                             interpolation=cv2.INTER_NEAREST)
        tiles.append(('seg', overlay_seg(image, seg, palette, dataset_meta,
                                         alpha), 'segmentation'))
    scale = None
    if flow is not None:
        flow = _resize_flow(flow, size)
        scale = _flow_scale(max_flow, flow)
        tiles.append(('flow', flow_to_color(flow, scale, bgr=True), 'flow'))
    if occ is not None:
        tiles.append(('occ', _fit(occlusion_to_image(occ), size),
                      'occlusion'))
    if not tiles:
        tiles = [('image', image, 'image')]
    if titles is not None:
        if len(titles) != len(tiles):
            raise ValueError(f'titles has {len(titles)} entries for '
                             f'{len(tiles)} tiles '
                             f'({[t[2] for t in tiles]})')
        tiles = [(k, t, n) for (k, t, _), n in zip(tiles, titles)]
    panel = _row(tiles, size, scale, keys)
    if legend:
        panel = _with_legend(panel, [seg], palette, dataset_meta,
                             title_height(size[0]))
    return panel


#: keys of the result / ground-truth dicts of :func:`make_pair_panel`
PAIR_KEYS = ('seg1', 'seg2', 'flow_fw', 'flow_bw', 'occ_fw', 'occ_bw')


def make_pair_panel(img1: np.ndarray, img2: np.ndarray, result: dict,
                    dataset_meta: Optional[dict] = None,
                    max_flow: Optional[float] = None,
                    alpha: float = 0.5,
                    gt: Optional[dict] = None,
                    keys: bool = True,
                    legend: bool = True) -> np.ndarray:
    """Panel of a predicted pair, one row per frame (and per ground truth).

    Row 1: frame i | seg_i overlay | flow i->i+t | occlusion of frame i.
    Row 2: frame i+t | seg_{i+t} overlay | flow i+t->i | its occlusion.
    With ``gt``, each frame's row is followed by a ground-truth row (same
    columns; ``n/a`` where ``gt`` lacks a map). All flows of the panel
    (predicted and ground truth) share one colour scale, ``max_flow``
    (default: the largest vector among them), stated by the key below each
    flow tile. Tiles of a kind missing from both ``result`` and ``gt``
    (e.g. no flow branch) are left out.

    Args:
        img1, img2: BGR uint8 frames (resized to the prediction size when
            they differ, e.g. after a test-time resize).
        result (dict): ``seg1``, ``seg2``, ``flow_fw``, ``flow_bw``,
            ``occ_fw``, ``occ_bw`` as :func:`efc_mm.apis.inference_pair`
            returns them (any may be missing or None; ``seg1`` or
            ``flow_fw`` sets the size).
        gt (dict, optional): ground truth with the same keys.
        keys, legend: see :func:`make_panel`.
    """
    gt = gt or {}
    result = {k: v for k, v in result.items() if v is not None}
    gt = {k: v for k, v in gt.items() if v is not None}
    if 'seg1' in result:
        size = to_numpy_image(result['seg1']).shape
    elif 'flow_fw' in result:
        size = as_flow_hw2(result['flow_fw']).shape[:2]
    else:
        size = _check_image(img1).shape[:2]
    kinds = [k for k, (a, b) in (('seg', ('seg1', 'seg2')),
                                 ('flow', ('flow_fw', 'flow_bw')),
                                 ('occ', ('occ_fw', 'occ_bw')))
             if any(x in d for d in (result, gt) for x in (a, b))]
    flows = [_resize_flow(d[k], size) for d in (result, gt)
             for k in ('flow_fw', 'flow_bw') if k in d]
    scale = _flow_scale(max_flow, *flows) if 'flow' in kinds else None
    rows = []
    segs = []
    for img, s, d, name in ((img1, 'seg1', 'fw', 'i->i+t'),
                            (img2, 'seg2', 'bw', 'i+t->i')):
        img = _fit(_check_image(img), size)
        frame = 'frame ' + name.split('->')[0]
        for source, tag in ((result, ''), (gt, ' (gt)')):
            if source is gt and not any(
                    k in gt for k in (s, f'flow_{d}', f'occ_{d}')):
                continue
            tiles = [('image', img, frame + tag)]
            for kind in kinds:
                key = s if kind == 'seg' else f'{kind}_{d}'
                title = dict(seg='segmentation', flow=f'flow {name}',
                             occ='occlusion')[kind] + tag
                if key not in source:
                    tiles.append((kind + '_na', _na_tile(size), title))
                elif kind == 'seg':
                    seg = to_numpy_image(source[key])
                    if seg.shape != tuple(size):
                        seg = cv2.resize(seg.astype(np.int32),
                                         (size[1], size[0]),
                                         interpolation=cv2.INTER_NEAREST)
                    segs.append(seg)
                    tiles.append((kind, overlay_seg(img, seg, None,
                                                    dataset_meta, alpha),
                                  title))
                elif kind == 'flow':
                    tiles.append((kind, flow_to_color(
                        _resize_flow(source[key], size), scale, bgr=True),
                        title))
                else:
                    tiles.append((kind, _fit(occlusion_to_image(
                        source[key]), size), title))
            rows.append(_row(tiles, size, scale, keys))
    panel = np.concatenate(rows, axis=0)
    if legend:
        panel = _with_legend(panel, segs, None, dataset_meta,
                             title_height(size[0]))
    return panel
