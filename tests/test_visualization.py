"""Flow colour wheel, occlusion / segmentation images and panels."""
import numpy as np
import pytest
import torch

import efc_mm  # noqa: F401
from efc_mm.visualization import (CITYSCAPES_PALETTE, PairLocalVisualizer,
                                  class_legend, colorwheel_key,
                                  flow_key_strip, flow_scale_label,
                                  flow_to_color, footer_height, get_palette,
                                  make_colorwheel, make_pair_panel,
                                  make_panel, nice_max_flow,
                                  occlusion_scale_strip, occlusion_to_image,
                                  overlay_seg, seg_to_color, title_height)


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
    panel = make_panel(img, seg, flow, occ, max_flow=2.0, legend=False)
    t, f = title_height(h), footer_height(h)
    assert panel.shape == (t + h + f, 3 * w, 3) and t >= 12 and f >= 14
    assert panel.dtype == np.uint8
    np.testing.assert_array_equal(panel[t:t + h, :w], overlay_seg(img, seg))
    np.testing.assert_array_equal(panel[t:t + h, w:2 * w],
                                  flow_to_color(flow, 2.0, bgr=True))
    np.testing.assert_array_equal(panel[t:t + h, 2 * w:],
                                  occlusion_to_image(occ))
    assert panel[:t].any()  # a title was drawn
    # segmentation only: no key strip (nothing to explain)
    only = make_panel(img, seg, with_image=True, legend=False)
    assert only.shape == (t + h, 2 * w, 3)
    with pytest.raises(ValueError, match='titles'):
        make_panel(img, seg, flow, titles=['a'])


def test_sub_pixel_flow_with_fixed_scale_is_near_white():
    """Issue 10 item 4: a constant 0.3 px field must not look like strong
    motion once the scale is fixed (10 px): 1 - 0.03 (1 - c) >= 0.97."""
    h, w = 20, 30
    img = np.zeros((h, w, 3), np.uint8)
    flow = np.zeros((h, w, 2))
    flow[..., 0], flow[..., 1] = 0.3, -0.1
    t = title_height(h)
    fixed = make_panel(img, flow=flow, max_flow=10.0, legend=False)
    assert fixed[t:t + h].min() >= 245
    # scaled to its own maximum the same field is fully saturated: the
    # misleading picture the key (below) has to explain
    own = make_panel(img, flow=flow, legend=False)
    assert own[t:t + h].min() < 60


def test_flow_key_wheel_and_label():
    assert flow_scale_label(10) == '10 px'
    assert flow_scale_label(0.25) == '0.25 px'
    assert flow_scale_label(123.4) == '123 px'
    with pytest.raises(ValueError):
        flow_scale_label(0)
    assert [nice_max_flow(v) for v in (0.2, 1.0, 1.3, 3, 7.5, 11, 180)] == \
        [1.0, 1.0, 2.0, 5.0, 10.0, 20.0, 200.0]
    # the wheel: white centre, Middlebury hues on the rim (BGR)
    d = 41
    key = colorwheel_key(d)
    c = d // 2
    assert (key[c, c] >= 250).all()
    # rim = the colour of a unit vector at max_flow 1 (hues pinned by
    # test_direction_hues): +x right, +y down, -y up
    for (y, x), (u, v) in (((c, d - 1), (1, 0)), ((d - 1, c), (0, 1)),
                           ((0, c), (0, -1))):
        np.testing.assert_array_equal(
            key[y, x], flow_to_color(_flow(u, v), 1.0, bgr=True)[0, 0])
    assert key[c, d - 1, 2] == 255 and key[c, d - 1, 0] < 50  # red (BGR)
    assert (key[0, 0] == 0).all()  # outside the disc
    # the strip: the wheel on the left, then the label in white text
    a = flow_key_strip(120, 20, 10.0)
    b = flow_key_strip(120, 20, 0.25)
    assert (a[:, :20] == b[:, :20]).all()       # same wheel
    assert not (a[:, 20:] == b[:, 20:]).all()   # different label
    assert (a[:, 20:] > 200).all(-1).sum() > 10  # white text pixels


def _strip_ramp(strip):
    """The longest run of the middle row whose grey value rises by 0..20
    per pixel (the ramp, without the labels and the frame)."""
    row = strip[strip.shape[0] // 2].astype(int)
    grey = row[:, 0] * ((row[:, 0] == row[:, 1]) & (row[:, 1] == row[:, 2]))
    steps = np.diff(grey)
    best, start = (0, 0), 0
    for i, ok in enumerate(np.append((steps >= 0) & (steps <= 20), False)):
        if not ok:
            if i + 1 - start > best[1] - best[0]:
                best = (start, i + 1)
            start = i + 1
    return grey[best[0]:best[1]]


def test_panel_keys_flow_scale_and_occlusion_ramp():
    h, w = 48, 64
    img = np.zeros((h, w, 3), np.uint8)
    flow = np.zeros((h, w, 2))
    flow[..., 0] = 3.0
    occ = np.zeros((h, w))
    panel = make_panel(img, flow=flow, occ=occ, legend=False)
    t, f = title_height(h), footer_height(h)
    foot = panel[t + h:]
    assert foot.shape[0] == f
    # max_flow None: the scale is the largest vector (3 px), and the key
    # says so (the same strip as one drawn for 3 px, not for 10 px)
    np.testing.assert_array_equal(foot[:, :w], flow_key_strip(w, f, 3.0))
    assert not (foot[:, :w] == flow_key_strip(w, f, 10.0)).all()
    # occlusion: a 0 -> 1 ramp from black to white, left to right
    ramp = _strip_ramp(foot[:, w:])
    assert len(ramp) >= w // 2
    assert ramp[0] <= 10 and ramp[-1] >= 245
    np.testing.assert_array_equal(foot[:, w:], occlusion_scale_strip(w, f))


def test_class_legend_appears_when_classes_fit():
    h, w = 96, 64
    img = np.zeros((h, w, 3), np.uint8)
    palette = [[200, 0, 0], [0, 200, 0], [0, 0, 200], [200, 200, 0],
               [0, 200, 200]]
    meta = dict(classes=('road', 'car', 'sky', 'tree', 'sea'),
                palette=palette)
    seg = np.zeros((h, w), int)
    seg[:, 32:] = 2
    panel = make_panel(img, seg, dataset_meta=meta)
    assert panel.shape[1] > w  # a legend column was added
    legend = panel[:, w:]
    for rgb in palette:  # a swatch of every class colour (BGR)
        hit = (legend == np.array(rgb[::-1], np.uint8)).all(-1)
        assert hit.sum() >= 36, rgb
    # present classes in white text, absent ones in grey
    direct = class_legend(meta['classes'], palette, 80, present=[0, 2])
    assert direct is not None and (direct == 255).all(-1).any()
    # 19 classes do not fit 40 px: no legend, the panel keeps its width
    small = np.zeros((40, w, 3), np.uint8)
    no = make_panel(small, np.zeros((40, w), int),
                    dataset_meta=dict(classes=[str(i) for i in range(19)],
                                      palette=get_palette(19)))
    assert no.shape[1] == w
    assert class_legend([str(i) for i in range(19)], get_palette(19),
                        100) is None


def test_make_pair_panel():
    h, w = 16, 20
    z = np.zeros((h, w))
    res = dict(seg1=z.astype(int), seg2=z.astype(int),
               flow_fw=np.ones((h, w, 2)), flow_bw=-np.ones((h, w, 2)),
               occ_fw=z, occ_bw=z + 1)
    img = np.zeros((h * 2, w * 2, 3), np.uint8)  # resized to the preds
    panel = make_pair_panel(img, img, res, legend=False)
    t, f = title_height(h), footer_height(h)
    row = t + h + f
    assert panel.shape == (2 * row, 4 * w, 3)
    # shared colour scale: fw and bw are opposite hues of full saturation
    fw = panel[t + 1, 2 * w + 1]
    bw = panel[row + t + 1, 2 * w + 1]
    assert not np.array_equal(fw, bw)
    assert (panel[row + t:row + t + h, 3 * w:] == 255).all()  # occ_bw = 1


def test_make_pair_panel_ground_truth_rows_share_the_flow_scale():
    h, w = 16, 20
    z = np.zeros((h, w), int)
    flow = np.zeros((h, w, 2))
    flow[..., 0] = 2.0
    gt_flow = np.zeros((h, w, 2))
    gt_flow[..., 0] = 4.0
    res = dict(seg1=z, seg2=z, flow_fw=flow, flow_bw=-flow)
    img = np.zeros((h, w, 3), np.uint8)
    panel = make_pair_panel(img, img, res, gt=dict(flow_fw=gt_flow),
                            legend=False)
    t, f = title_height(h), footer_height(h)
    row = t + h + f
    # rows: frame i, frame i (gt), frame i+t (no gt for it: no gt row)
    assert panel.shape == (3 * row, 3 * w, 3)
    # one scale for prediction and ground truth: 4 px (the largest)
    np.testing.assert_array_equal(
        panel[t + 1, 2 * w + 1], flow_to_color(flow[:1, :1], 4.0,
                                               bgr=True)[0, 0])
    np.testing.assert_array_equal(
        panel[row + t + 1, 2 * w + 1], flow_to_color(gt_flow[:1, :1], 4.0,
                                                     bgr=True)[0, 0])
    # the gt row has no segmentation: an n/a tile (dark grey)
    assert (panel[row + t:row + t + h, w:2 * w] <= 200).all()
    assert np.median(panel[row + t:row + t + h, w:2 * w]) == 40


# --------------------------------------------------------------------------
# the mmengine visualizer
# --------------------------------------------------------------------------
def _pair_sample(h, w, with_flow=True):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from efc_mm.structures import PairDataSample
    s = PairDataSample(metainfo=dict(ori_shape=(h, w)))
    for k in (1, 2):
        f = SegDataSample(metainfo=dict(ori_shape=(h, w)))
        f.pred_sem_seg = PixelData(data=torch.full((1, h, w), k - 1))
        f.gt_sem_seg = PixelData(data=torch.full((1, h, w), 255))
        setattr(s, f'frame{k}', f)
    if with_flow:
        for d in ('fw', 'bw'):
            s.set_field(PixelData(data=torch.ones(2, h, w)), f'pred_flow_{d}')
            s.set_field(PixelData(data=torch.zeros(1, h, w)), f'pred_occ_{d}')
    return s


def test_pair_local_visualizer_registered_and_draws_pairs(tmp_path):
    import cv2
    from mmseg.registry import VISUALIZERS
    h, w = 32, 40
    vis = VISUALIZERS.build(dict(type='PairLocalVisualizer',
                                 name='test_pair_vis_1', legend=False))
    assert isinstance(vis, PairLocalVisualizer)
    rng = np.random.RandomState(0)
    rgb1 = rng.randint(0, 255, (h, w, 3)).astype(np.uint8)
    rgb2 = rng.randint(0, 255, (h, w, 3)).astype(np.uint8)
    out = str(tmp_path / 'pair.png')
    vis.add_datasample('p', [rgb1, rgb2], _pair_sample(h, w), out_file=out)
    panel = cv2.imread(out)
    t, f = title_height(h), footer_height(h)
    row = t + h + f
    # all-255 ground truth = unlabelled: no gt rows; 4 tiles per row
    assert panel.shape == (2 * row, 4 * w, 3)
    np.testing.assert_array_equal(panel[t:t + h, :w], rgb1[..., ::-1])
    np.testing.assert_array_equal(panel[row + t:row + t + h, :w],
                                  rgb2[..., ::-1])
    # without a flow branch: frame | segmentation only
    vis.add_datasample('p', [rgb1, rgb2], _pair_sample(h, w, False),
                       out_file=out)
    assert cv2.imread(out).shape == (2 * (t + h), 2 * w, 3)
    # one image only: frame 2 needs an img_path
    with pytest.raises(ValueError, match='img_path'):
        vis.add_datasample('p', rgb1, _pair_sample(h, w), out_file=out)


def test_pair_local_visualizer_falls_back_to_mmseg_for_single_frames(
        tmp_path):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    from mmseg.visualization import SegLocalVisualizer
    h, w = 24, 30
    img = np.random.RandomState(2).randint(0, 255, (h, w, 3)).astype(
        np.uint8)
    sample = SegDataSample()
    sample.pred_sem_seg = PixelData(
        data=torch.from_numpy(np.random.RandomState(3).randint(0, 19,
                                                               (1, h, w))))
    ours = PairLocalVisualizer(name='test_pair_vis_2')  # mmseg defaults
    ref = SegLocalVisualizer(name='test_seg_vis_2')
    ours.add_datasample('s', img, sample, out_file=str(tmp_path / 'a.png'))
    ref.add_datasample('s', img, sample, out_file=str(tmp_path / 'b.png'))
    import cv2
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / 'a.png')),
                                  cv2.imread(str(tmp_path / 'b.png')))


def test_pair_seg_visualization_hook_draws_pairs_or_says_why(tmp_path):
    """The val/test hook (tools/test.py --show-dir) reads both frames of a
    pair output and draws the pair panel; with a visualizer that cannot
    draw pairs it raises an error naming it instead of drawing nothing."""
    import types

    import cv2
    from mmengine.visualization import Visualizer

    from efc_mm.engine import PairSegVisualizationHook
    h, w = 24, 32
    sample = _pair_sample(h, w)
    rng = np.random.RandomState(4)
    for k, frame in enumerate(sample.frames):
        path = str(tmp_path / f'f{k}.png')
        cv2.imwrite(path, rng.randint(0, 255, (h, w, 3)).astype(np.uint8))
        frame.set_metainfo(dict(img_path=path))
    drawn = []

    class Spy(PairLocalVisualizer):
        def add_image(self, name, image, step=0):
            drawn.append((name, image))

    Spy.get_instance('test_hook_spy', legend=False)  # the current one
    hook = PairSegVisualizationHook(draw=True, interval=1)
    runner = types.SimpleNamespace(iter=7)
    hook.after_test_iter(runner, 0, {}, [sample])
    assert [d[0] for d in drawn] == ['test_f0.png']
    panel = drawn[0][1]  # RGB, frame i first
    t = title_height(h)
    np.testing.assert_array_equal(
        panel[t:t + h, :w], cv2.imread(str(tmp_path / 'f0.png'))[..., ::-1])
    # draw=False (the config default): nothing, as mmseg
    PairSegVisualizationHook(draw=False).after_test_iter(runner, 0, {},
                                                         [sample])
    assert len(drawn) == 1
    Visualizer.get_instance('test_hook_plain')
    hook = PairSegVisualizationHook(draw=True, interval=1)
    with pytest.raises(TypeError, match='visualizer is Visualizer.*'
                       'PairLocalVisualizer'):
        hook.after_test_iter(runner, 0, {}, [sample])
