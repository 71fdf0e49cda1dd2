"""KITTI 16-bit flow PNG writer (numpy and OpenCV only).

Format: 16-bit, 3 channels in RGB order: ``u = (R - 2^15) / 64``,
``v = (G - 2^15) / 64``, ``B`` = valid (0 / 1). OpenCV writes BGR, so the
channels are reversed on write. :mod:`efc_mm.fileio` re-exports this writer
(one implementation); it lives here because the generator must not import
efc_mm (torch, mmseg). mmflow's ``write_flow_kitti`` is not used: it writes
valid = 1 everywhere and wraps values beyond +-512 px instead of clipping.
"""
import os

import cv2
import numpy as np

__all__ = ['write_flow_kitti']


def write_flow_kitti(path: str, flow: np.ndarray, valid=None) -> None:
    """Write flow as a KITTI 16-bit PNG (values are clipped to +-512 px and
    quantised to 1/64 px, as the format requires).

    Args:
        path (str): output ``.png`` file (parent folders are created).
        flow (np.ndarray): ``(H, W, 2)`` flow (u, v) in pixels.
        valid (np.ndarray, optional): ``(H, W)``, nonzero = valid; default
            all valid.

    Raises:
        ValueError: ``flow`` is not ``(H, W, 2)`` or ``valid`` not ``(H, W)``.
        OSError: the file could not be written.
    """
    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f'{path}: flow must be (H, W, 2), got {flow.shape}')
    if valid is None:
        valid = np.ones(flow.shape[:2], np.float64)
    valid = np.asarray(valid)
    if valid.shape != flow.shape[:2]:
        raise ValueError(f'{path}: valid must be {flow.shape[:2]} like the '
                         f'flow, got {valid.shape}')
    encoded = np.clip(np.round(flow * 64.0 + 2.0**15), 0, 2**16 - 1)
    out = np.concatenate(
        [encoded, (valid > 0)[..., None].astype(np.float64)],
        axis=2).astype(np.uint16)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if not cv2.imwrite(path, out[:, :, ::-1]):
        raise OSError(f'could not write {path}')
