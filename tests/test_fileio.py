"""efc_mm.fileio: .flo and KITTI flow PNG reading with clear errors.

Files are written here byte by byte (struct / OpenCV), not with the code
under test, and read back values are checked against that encoding.
"""
import os.path as osp
import struct

import cv2
import numpy as np
import pytest

from efc_mm.fileio import (read_flo, read_flow_kitti, write_flo,
                           write_flow_kitti)


def flo_bytes(width, height, values):
    return b'PIEH' + struct.pack('<ii', width, height) + \
        np.asarray(values, '<f4').tobytes()


def test_read_flo_matches_the_format(tmp_path):
    flow = np.random.default_rng(0).normal(size=(3, 5, 2)).astype('<f4')
    path = tmp_path / 'a.flo'
    path.write_bytes(flo_bytes(5, 3, flow))
    out = read_flo(str(path))
    assert out.dtype == np.float32 and out.shape == (3, 5, 2)
    np.testing.assert_array_equal(out, flow)
    out[0, 0, 0] = 7  # writable
    write_flo(str(tmp_path / 'sub' / 'b.flo'), flow)
    assert (tmp_path / 'sub' / 'b.flo').read_bytes() == path.read_bytes()


@pytest.mark.parametrize('width,height,n_values,field', [
    (2, 3, 4 * 3 * 2, 'longer than its header says'),  # header < data
    (4, 3, 2 * 3 * 2, 'truncated'),                       # header > data
    (0, 0, 0, 'both must be >= 1'),                       # 0 x 0
    (-4, 3, 0, 'both must be >= 1'),
    (100000, 100000, 8, 'truncated'),            # would be 74.5 GiB
])
def test_read_flo_checks_header_against_size(tmp_path, width, height,
                                              n_values, field):
    path = tmp_path / 'bad.flo'
    path.write_bytes(flo_bytes(width, height, np.zeros(n_values)))
    with pytest.raises(ValueError) as err:
        read_flo(str(path))
    msg = str(err.value)
    assert str(path) in msg and field in msg
    assert f'{width} x {height}' in msg


def test_read_flo_bad_magic_short_and_missing(tmp_path):
    path = tmp_path / 'x.flo'
    path.write_bytes(b'PIEX' + struct.pack('<ii', 1, 1) + bytes(8))
    with pytest.raises(ValueError, match=r'x\.flo.*magic number'):
        read_flo(str(path))
    path.write_bytes(b'PIE')
    with pytest.raises(ValueError, match=r'x\.flo.*3 bytes'):
        read_flo(str(path))
    with pytest.raises(FileNotFoundError, match='nope.flo'):
        read_flo(str(tmp_path / 'nope.flo'))
    with pytest.raises(ValueError, match=r'\(H, W, 2\)'):
        write_flo(str(tmp_path / 'y.flo'), np.zeros((3, 4, 3)))


def kitti_png(path, u, v, valid):
    """Encode by the KITTI definition: R = u * 64 + 2^15, G likewise, B =
    valid; written as BGR by OpenCV."""
    rgb = np.stack([u * 64 + 2**15, v * 64 + 2**15, valid], -1)
    assert cv2.imwrite(str(path), rgb.astype(np.uint16)[..., ::-1])


def test_read_flow_kitti_matches_the_format(tmp_path):
    rng = np.random.default_rng(1)
    u = rng.integers(-64 * 100, 64 * 100, (4, 6)) / 64
    v = rng.integers(-64 * 100, 64 * 100, (4, 6)) / 64
    valid = rng.integers(0, 2, (4, 6))
    kitti_png(tmp_path / 'f.png', u, v, valid)
    flow, val = read_flow_kitti(str(tmp_path / 'f.png'))
    assert flow.dtype == np.float32 and flow.shape == (4, 6, 2)
    np.testing.assert_array_equal(val, valid.astype(np.float32))
    np.testing.assert_array_equal(flow[..., 0], np.where(valid, u, 0))
    np.testing.assert_array_equal(flow[..., 1], np.where(valid, v, 0))
    # our writer: same decoded values, valid from the mask, +-512 clipped
    write_flow_kitti(str(tmp_path / 'g.png'), np.stack([u, v], -1),
                     valid > 0)
    back, val2 = read_flow_kitti(str(tmp_path / 'g.png'))
    np.testing.assert_array_equal(back, flow)
    np.testing.assert_array_equal(val2, val)


def test_read_flow_kitti_clear_errors(tmp_path):
    eight = tmp_path / 'eight.png'
    cv2.imwrite(str(eight), np.zeros((4, 5, 3), np.uint8))
    with pytest.raises(ValueError, match=r'eight\.png.*16-bit.*8-bit RGB'):
        read_flow_kitti(str(eight))
    grey = tmp_path / 'grey.png'
    cv2.imwrite(str(grey), np.zeros((4, 5), np.uint16))
    with pytest.raises(ValueError, match=r'grey\.png.*16-bit grey'):
        read_flow_kitti(str(grey))
    jpg = tmp_path / 'photo.png'
    jpg.write_bytes(cv2.imencode('.jpg', np.zeros((4, 5, 3), np.uint8))[1]
                    .tobytes())
    with pytest.raises(ValueError, match=r'photo\.png.*not a PNG'):
        read_flow_kitti(str(jpg))
    good = tmp_path / 'good.png'
    kitti_png(good, np.zeros((8, 8)), np.zeros((8, 8)), np.ones((8, 8)))
    corrupt = tmp_path / 'corrupt.png'
    corrupt.write_bytes(good.read_bytes()[:40])  # header intact, data cut
    with pytest.raises(ValueError, match=r'corrupt\.png.*unreadable'):
        read_flow_kitti(str(corrupt))
    with pytest.raises(FileNotFoundError, match='none.png'):
        read_flow_kitti(str(tmp_path / 'none.png'))
    assert not osp.exists(tmp_path / 'none.png')
