"""Flow colour wheel, occlusion / segmentation images and panels."""
import numpy as np
import pytest
import torch

import efc_mm  # noqa: F401
from efc_mm.visualization import (CITYSCAPES_PALETTE, flow_to_color,
                                  get_palette, make_colorwheel,
                                  make_pair_panel, make_panel,
                                  occlusion_to_image, overlay_seg,
                                  seg_to_color)


def _flow(u, v, h=2, w=3):
    f = np.zeros((h, w, 2))
    f[..., 0], f[..., 1] = u, v
    return f


def test_colorwheel_segments_from_baker_formula():
    wheel = make_colorwheel()
    assert wheel.shape == (55, 3)
    # segment starts: red, yellow, green, cyan, blue, magenta
    starts = {0: (255, 0, 0), 15: (255, 255, 0), 21: (0, 255, 0),
              25: (0, 255, 255), 36: (0, 0, 255), 49: (255, 0, 255)}
    for idx, rgb in starts.items():
        assert tuple(wheel[idx]) == rgb, idx
    # ramps: floor(255 * k / n) up (RY green, GC blue, BM red) and down
    for k in range(15):
        assert wheel[k, 1] == np.floor(255 * k / 15)
    for k in range(6):
        assert wheel[15 + k, 0] == 255 - np.floor(255 * k / 6)
        assert wheel[49 + k, 2] == 255 - np.floor(255 * k / 6)
    for k in range(13):
        assert wheel[36 + k, 0] == np.floor(255 * k / 13)


@pytest.mark.parametrize('u,v,expected', [
    (1, 0, None),             # +x: red (checked below)
    (0, 1, (255, 229, 0)),    # +y (down): fk = 13.5 between wheel 13/14
    (-1, 0, (0, 209, 255)),   # -x: wheel[27] = CB offset 2
    (0, -1, (88, 0, 255)),    # -y (up): fk = 40.5 between wheel 40/41
])
def test_direction_hues(u, v, expected):
    rgb = flow_to_color(_flow(u, v), max_flow=1.0)[0, 0]
    if expected is None:
        assert rgb[0] == 255 and rgb[1] == 0 and rgb[2] <= 43
    else:
        np.testing.assert_array_equal(rgb, expected)


def test_saturation_grows_with_magnitude():
    white = flow_to_color(_flow(0, 0))
    assert (white == 255).all()  # zero flow, max_flow None: white
    half = flow_to_color(_flow(1, 0), max_flow=2.0)[0, 0]
    np.testing.assert_array_equal(half, (255, 127, 127))  # 1 - 0.5 (1 - c)
    over = flow_to_color(_flow(2, 0), max_flow=1.0)[0, 0]
    np.testing.assert_array_equal(over, (191, 0, 0))  # darkened by 0.75
    # max_flow None: normalised by the largest vector
    f = _flow(0, 0)
    f[0, 0] = (4, 0)
    f[0, 1] = (2, 0)
    img = flow_to_color(f)
    np.testing.assert_array_equal(img[0, 0], (255, 0, 0))
    np.testing.assert_array_equal(img[0, 1], (255, 127, 127))


def test_flow_layouts_bgr_and_bad_input():
    rng = np.random.RandomState(0)
    f = rng.randn(5, 7, 2) * 3
    a = flow_to_color(f)
    b = flow_to_color(torch.from_numpy(f.transpose(2, 0, 1)))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(flow_to_color(f, bgr=True), a[..., ::-1])
    nan = f.copy()
    nan[0, 0] = np.nan
    assert (flow_to_color(nan)[0, 0] == 255).all()
    with pytest.raises(ValueError, match='flow must be'):
        flow_to_color(np.zeros((4, 4)))
    with pytest.raises(ValueError, match='max_flow'):
        flow_to_color(f, max_flow=0)


def test_occlusion_image():
    occ = np.array([[0.0, 0.5], [1.0, 2.0]])
    img = occlusion_to_image(torch.tensor(occ)[None])
    assert img.shape == (2, 2, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img[..., 0], [[0, 128], [255, 255]])
    assert (img[..., 0] == img[..., 2]).all()


def test_palette_matches_mmseg_cityscapes():
    from mmseg.datasets import CityscapesDataset
    expected = np.array(CityscapesDataset.METAINFO['palette'], np.uint8)
    np.testing.assert_array_equal(get_palette(19), expected)
    assert len(get_palette(25)) == 25
    np.testing.assert_array_equal(get_palette(25)[:19], expected)
    meta = dict(palette=[[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(get_palette(2, meta), [[1, 2, 3],
                                                         [4, 5, 6]])


def test_seg_colors_and_overlay():
    seg = np.array([[0, 13], [255, 1]])
    col = seg_to_color(seg, palette=np.array(CITYSCAPES_PALETTE))
    np.testing.assert_array_equal(col[0, 0], (128, 64, 128)[::-1])  # BGR
    np.testing.assert_array_equal(col[0, 1], (0, 0, 142)[::-1])
    np.testing.assert_array_equal(col[1, 0], (0, 0, 0))  # ignore: black
    img = np.full((2, 2, 3), 100, np.uint8)
    meta = dict(palette=[[200, 0, 0], [0, 200, 0]])
    out = overlay_seg(img, np.array([[0, 1], [255, 0]]), dataset_meta=meta,
                      alpha=0.5)
    np.testing.assert_array_equal(out[0, 0], (50, 50, 150))  # BGR blend
    np.testing.assert_array_equal(out[0, 1], (50, 150, 50))
    np.testing.assert_array_equal(out[1, 0], (100, 100, 100))  # ignore
    with pytest.raises(ValueError, match='differ in size'):
        overlay_seg(img, np.zeros((3, 2), int))


def test_make_panel_layout_and_tiles():
    h, w = 24, 32
    rng = np.random.RandomState(1)
    img = rng.randint(0, 255, (h, w, 3)).astype(np.uint8)
    seg = rng.randint(0, 19, (h, w))
    flow = rng.randn(h, w, 2)
    occ = rng.rand(h, w)
    panel = make_panel(img, seg, flow, occ, max_flow=2.0)
    t = panel.shape[0] - h
    assert panel.shape == (h + t, 3 * w, 3) and t >= 12
    assert panel.dtype == np.uint8
    np.testing.assert_array_equal(panel[t:, :w], overlay_seg(img, seg))
    np.testing.assert_array_equal(panel[t:, w:2 * w],
                                  flow_to_color(flow, 2.0, bgr=True))
    np.testing.assert_array_equal(panel[t:, 2 * w:], occlusion_to_image(occ))
    assert panel[:t].any()  # a title was drawn
    assert make_panel(img, seg, with_image=True).shape == (h + t, 2 * w, 3)
    with pytest.raises(ValueError, match='titles'):
        make_panel(img, seg, flow, titles=['a'])


def test_make_pair_panel():
    h, w = 16, 20
    z = np.zeros((h, w))
    res = dict(seg1=z.astype(int), seg2=z.astype(int),
               flow_fw=np.ones((h, w, 2)), flow_bw=-np.ones((h, w, 2)),
               occ_fw=z, occ_bw=z + 1)
    img = np.zeros((h * 2, w * 2, 3), np.uint8)  # resized to the preds
    panel = make_pair_panel(img, img, res)
    t = panel.shape[0] // 2 - h
    assert panel.shape == (2 * (h + t), 4 * w, 3)
    # shared colour scale: fw and bw are opposite hues of full saturation
    fw = panel[t + 1, 2 * w + 1]
    bw = panel[2 * t + h + 1, 2 * w + 1]
    assert not np.array_equal(fw, bw)
    assert (panel[2 * t + h:, 3 * w:] == 255).all()  # occ_bw all ones
