"""Segmentation overlays and side-by-side panels (BGR uint8, OpenCV)."""
from typing import List, Optional, Sequence

import cv2
import numpy as np

from .flow_vis import flow_to_color, occlusion_to_image

__all__ = ['CITYSCAPES_PALETTE', 'get_palette', 'seg_to_color',
           'overlay_seg', 'add_title', 'make_panel', 'to_numpy_image']

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


def make_panel(image: np.ndarray,
               seg=None,
               flow=None,
               occ=None,
               palette=None,
               dataset_meta: Optional[dict] = None,
               max_flow: Optional[float] = None,
               alpha: float = 0.5,
               titles: Optional[Sequence[str]] = None,
               with_image: bool = False) -> np.ndarray:
    """Side-by-side panel: [image |] segmentation overlay | flow | occlusion.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 BGR frame.
        seg: ``(H, W)`` label map (None: the tile is left out).
        flow: ``(H, W, 2)`` / ``(2, H, W)`` flow in px (None: left out),
            drawn with :func:`flow_to_color` (``max_flow`` as there).
        occ: ``(H, W)`` occlusion in [0, 1] (None: left out).
        palette, dataset_meta: label colours (RGB), see
            :func:`seg_to_color`; Cityscapes by default.
        alpha (float): overlay opacity.
        titles (list[str], optional): one title per drawn tile, in order;
            default ``image``, ``segmentation``, ``flow``, ``occlusion``.
        with_image (bool): also show the raw frame first.

    Returns:
        np.ndarray: ``(title_h + H, n_tiles * W, 3)`` uint8 BGR. Maps of a
        different size than the image are nearest-resized to it.
    """
    image = _check_image(image)
    size = image.shape[:2]
    tiles: List[np.ndarray] = []
    names: List[str] = []
    if with_image:
        tiles.append(image)
        names.append('image')
    if seg is not None:
        seg = to_numpy_image(seg)
        if seg.shape != size:
            seg = cv2.resize(seg.astype(np.int32), (size[1], size[0]),
                             interpolation=cv2.INTER_NEAREST)
        tiles.append(overlay_seg(image, seg, palette, dataset_meta, alpha))
        names.append('segmentation')
    if flow is not None:
        tiles.append(_fit(flow_to_color(flow, max_flow, bgr=True), size))
        names.append('flow')
    if occ is not None:
        tiles.append(_fit(occlusion_to_image(occ), size))
        names.append('occlusion')
    if not tiles:
        tiles, names = [image], ['image']
    if titles is not None:
        if len(titles) != len(tiles):
            raise ValueError(f'titles has {len(titles)} entries for '
                             f'{len(tiles)} tiles ({names})')
        names = list(titles)
    height = int(np.clip(size[0] // 8, 12, 28))
    return np.concatenate([add_title(t, n, height)
                           for t, n in zip(tiles, names)], axis=1)


def _max_radius(*flows) -> Optional[float]:
    from .flow_vis import as_flow_hw2
    radii = [np.sqrt((np.nan_to_num(as_flow_hw2(f)) ** 2).sum(-1)).max()
             for f in flows if f is not None]
    return float(max(radii)) if radii and max(radii) > 0 else None


def make_pair_panel(img1: np.ndarray, img2: np.ndarray, result: dict,
                    dataset_meta: Optional[dict] = None,
                    max_flow: Optional[float] = None,
                    alpha: float = 0.5) -> np.ndarray:
    """Two-row panel of a predicted pair.

    Row 1: frame i | seg_i overlay | flow i->i+t | occlusion of frame i.
    Row 2: frame i+t | seg_{i+t} overlay | flow i+t->i | its occlusion.
    Both flows share one colour scale (``max_flow``, default the larger of
    the two maximum magnitudes).

    Args:
        img1, img2: BGR uint8 frames (resized to the prediction size when
            they differ, e.g. after a test-time resize).
        result (dict): ``seg1``, ``seg2``, ``flow_fw``, ``flow_bw``,
            ``occ_fw``, ``occ_bw`` as :func:`efc_mm.apis.inference_pair`
            returns them.
    """
    size = to_numpy_image(result['seg1']).shape
    if max_flow is None:
        max_flow = _max_radius(result['flow_fw'], result['flow_bw'])
    rows = []
    for img, s, d, name in ((img1, 'seg1', 'fw', 'i->i+t'),
                            (img2, 'seg2', 'bw', 'i+t->i')):
        img = _fit(_check_image(img), size)
        rows.append(make_panel(
            img, result[s], result[f'flow_{d}'], result[f'occ_{d}'],
            dataset_meta=dataset_meta, max_flow=max_flow, alpha=alpha,
            with_image=True,
            titles=['frame ' + name.split('->')[0], 'segmentation',
                    f'flow {name}', 'occlusion']))
    return np.concatenate(rows, axis=0)
