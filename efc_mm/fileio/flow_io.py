"""Optical-flow file formats: Middlebury ``.flo`` and KITTI 16-bit PNG.

* ``.flo`` (Middlebury): ``b'PIEH'`` (float 202021.25), int32 width, int32
  height, then ``H x W x 2`` float32 (u, v), little endian.
* KITTI flow PNG: 16-bit, 3 channels in RGB order: ``u = (R - 2^15) / 64``,
  ``v = (G - 2^15) / 64``, ``B`` = valid (0 / 1). OpenCV reads BGR, so the
  channels are reversed on read and write.
"""
import os

import cv2
import numpy as np

_FLO_MAGIC = 202021.25


def _check_file(path: str) -> None:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'flow file not found: {path}')


def read_flo(path: str) -> np.ndarray:
    """Read a Middlebury ``.flo`` file.

    Returns:
        np.ndarray: ``(H, W, 2)`` float32 flow (u, v) in pixels.
    """
    _check_file(path)
    with open(path, 'rb') as f:
        magic = np.fromfile(f, np.float32, count=1)
        if magic.size != 1 or magic[0] != _FLO_MAGIC:
            raise ValueError(f'{path}: not a .flo file (bad magic number)')
        w, h = np.fromfile(f, np.int32, count=2)
        data = np.fromfile(f, np.float32, count=int(w) * int(h) * 2)
    if data.size != int(w) * int(h) * 2:
        raise ValueError(f'{path}: truncated .flo file, header says {w}x{h} '
                         f'but holds {data.size // 2} vectors')
    return data.reshape(int(h), int(w), 2)


def write_flo(path: str, flow: np.ndarray) -> None:
    """Write ``(H, W, 2)`` flow to a Middlebury ``.flo`` file."""
    flow = np.asarray(flow, dtype=np.float32)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f'flow must be (H, W, 2), got {flow.shape}')
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    h, w = flow.shape[:2]
    with open(path, 'wb') as f:
        np.array([_FLO_MAGIC], np.float32).tofile(f)
        np.array([w, h], np.int32).tofile(f)
        flow.tofile(f)


def read_flow_kitti(path: str):
    """Read a KITTI 16-bit flow PNG.

    Returns:
        tuple: ``flow`` ``(H, W, 2)`` float32 in pixels and ``valid``
        ``(H, W)`` float32 in {0, 1}.
    """
    _check_file(path)
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise ValueError(f'{path}: unreadable image (corrupt or not a PNG)')
    if raw.ndim != 3 or raw.shape[2] != 3 or raw.dtype != np.uint16:
        raise ValueError(f'{path}: expected a 3-channel 16-bit KITTI flow PNG,'
                         f' got shape {raw.shape} dtype {raw.dtype}')
    raw = raw[:, :, ::-1].astype(np.float32)  # BGR -> RGB = (u, v, valid)
    flow = (raw[:, :, :2] - 2.0**15) / 64.0
    valid = (raw[:, :, 2] > 0).astype(np.float32)
    flow[valid == 0] = 0
    return flow, valid


def write_flow_kitti(path: str, flow: np.ndarray, valid=None) -> None:
    """Write flow as a KITTI 16-bit PNG (values are clipped to +-512 px and
    quantised to 1/64 px, as the format requires)."""
    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f'flow must be (H, W, 2), got {flow.shape}')
    if valid is None:
        valid = np.ones(flow.shape[:2], np.float64)
    encoded = np.clip(np.round(flow * 64.0 + 2.0**15), 0, 2**16 - 1)
    out = np.concatenate(
        [encoded, (np.asarray(valid) > 0)[..., None].astype(np.float64)],
        axis=2).astype(np.uint16)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if not cv2.imwrite(path, out[:, :, ::-1]):
        raise OSError(f'could not write {path}')
