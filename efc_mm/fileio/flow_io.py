"""Optical-flow file formats: Middlebury ``.flo`` and KITTI 16-bit PNG.

* ``.flo`` (Middlebury): ``b'PIEH'`` (float 202021.25), int32 width, int32
  height, then ``H x W x 2`` float32 (u, v), little endian.
* KITTI flow PNG: 16-bit, 3 channels in RGB order: ``u = (R - 2^15) / 64``,
  ``v = (G - 2^15) / 64``, ``B`` = valid (0 / 1).

Decoding and encoding are mmcv's / mmflow's (``mmcv.flowread``,
``mmcv.flowwrite``, ``mmflow.datasets.utils.read_flow_kitti``); these
functions wrap them with the checks they lack, so that a bad file gives a
:class:`ValueError` naming the file, the field and what was expected instead
of a wrong array, a reshape error or a multi-GiB ``MemoryError``. The KITTI
writer is :func:`efc_synthetic.flow_png.write_flow_kitti` (mmflow's writes
valid = 1 everywhere and wraps values beyond +-512 px).
"""
import os
import struct

import mmcv
import numpy as np
from efc_synthetic.flow_png import write_flow_kitti

__all__ = ['read_flo', 'write_flo', 'read_flow_kitti', 'write_flow_kitti']

_FLO_MAGIC = b'PIEH'  # float32 202021.25, little endian
_FLO_HEADER_BYTES = 12
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def _check_file(path: str) -> None:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'flow file not found: {path}')


def _check_flo_header(path: str) -> None:
    """Check the 12-byte header of a ``.flo`` file against its size."""
    size = os.path.getsize(path)
    with open(path, 'rb') as f:
        header = f.read(_FLO_HEADER_BYTES)
    if len(header) < _FLO_HEADER_BYTES:
        raise ValueError(f'{path}: not a .flo file: {size} bytes, shorter '
                         f'than the {_FLO_HEADER_BYTES}-byte header')
    if header[:4] != _FLO_MAGIC:
        raise ValueError(f'{path}: not a .flo file: magic number (bytes 0-3)'
                         f' is {header[:4]!r}, expected {_FLO_MAGIC!r} '
                         '(float 202021.25)')
    width, height = struct.unpack('<ii', header[4:12])
    if width < 1 or height < 1:
        raise ValueError(f'{path}: .flo header width x height = {width} x '
                         f'{height}; both must be >= 1')
    need = _FLO_HEADER_BYTES + 8 * width * height
    if size != need:
        what = 'truncated' if size < need else 'longer than its header says'
        raise ValueError(
            f'{path}: .flo header width x height = {width} x {height} needs '
            f'{need} bytes ({_FLO_HEADER_BYTES} + 2 float32 per pixel), but '
            f'the file has {size}: {what}')


def read_flo(path: str) -> np.ndarray:
    """Read a Middlebury ``.flo`` file (``mmcv.flowread``, after checking
    the header against the file size).

    Returns:
        np.ndarray: ``(H, W, 2)`` float32 flow (u, v) in pixels.

    Raises:
        FileNotFoundError: no such file.
        ValueError: bad magic number, a width or height < 1, or a file size
            that does not match the header (truncated or padded data, a
            corrupt header), naming the file and the field.
    """
    path = str(path)
    _check_file(path)
    _check_flo_header(path)
    return mmcv.flowread(path)


def write_flo(path: str, flow: np.ndarray) -> None:
    """Write ``(H, W, 2)`` flow to a Middlebury ``.flo`` file
    (``mmcv.flowwrite``; parent folders are created)."""
    flow = np.asarray(flow, dtype=np.float32)
    if flow.ndim != 3 or flow.shape[2] != 2 or min(flow.shape[:2]) < 1:
        raise ValueError(f'{path}: flow must be (H, W, 2) with H, W >= 1, '
                         f'got {flow.shape}')
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    mmcv.flowwrite(np.ascontiguousarray(flow), str(path))


def _check_kitti_png_header(path: str) -> None:
    """Check the PNG signature and IHDR: 16-bit RGB, as KITTI flow is."""
    with open(path, 'rb') as f:
        head = f.read(29)  # signature (8) + IHDR length/type/data (8 + 13)
    if len(head) < 29 or head[:8] != _PNG_SIGNATURE or \
            head[12:16] != b'IHDR':
        raise ValueError(f'{path}: not a PNG file (KITTI flow must be a '
                         '16-bit 3-channel PNG)')
    width, height, depth, colour = struct.unpack('>IIBB', head[16:26])
    if depth != 16 or colour != 2:
        kinds = {0: 'grey', 2: 'RGB', 3: 'palette', 4: 'grey+alpha',
                 6: 'RGBA'}
        raise ValueError(
            f'{path}: expected a 3-channel 16-bit KITTI flow PNG, got '
            f'{depth}-bit {kinds.get(colour, f"colour type {colour}")} '
            f'({width} x {height})')


def read_flow_kitti(path: str):
    """Read a KITTI 16-bit flow PNG (mmflow's ``read_flow_kitti`` after a
    header check; invalid pixels get flow 0 and valid becomes {0, 1}).

    Returns:
        tuple: ``flow`` ``(H, W, 2)`` float32 in pixels and ``valid``
        ``(H, W)`` float32 in {0, 1}.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a PNG, not 16-bit RGB, or undecodable, naming the
            file.
    """
    # mmflow.datasets imports matplotlib.pyplot (~1.5 s): only when needed
    from mmflow.datasets.utils import read_flow_kitti as mmflow_read
    path = str(path)
    _check_file(path)
    _check_kitti_png_header(path)
    try:
        flow, valid = mmflow_read(path)
    except TypeError as e:  # cv2.imread returned None: corrupt data
        raise ValueError(f'{path}: unreadable PNG (corrupt data)') from e
    valid = (valid > 0).astype(np.float32)
    # KITTI stores arbitrary u, v where invalid; mmflow keeps them
    flow[valid == 0] = 0
    return flow, valid
