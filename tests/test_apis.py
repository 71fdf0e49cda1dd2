"""Inference API, video reading, the video demo and the pair
visualisation hook, on a tiny random EFC model."""
import os
import os.path as osp
import types

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

import efc_mm  # noqa: F401
from efc_mm.apis import (FrameSource, inference_pair, inference_segmentor,
                         inference_video, init_model)
from efc_mm.engine import PairVisualizationHook
from efc_mm.structures import PairDataSample

from efc_mm.testing import plain_cfg, tiny_model_cfg

from conftest import load_script, shared_path  # noqa: E402

H, W = 48, 64


def write_config(path, model):
    Config(dict(model=model, default_scope='mmseg',
                custom_imports=dict(imports=['efc_mm'],
                                    allow_failed_imports=False))).dump(path)
    return path


@pytest.fixture(scope='module')
def tiny_cfg(tmp_path_factory):
    return write_config(str(tmp_path_factory.mktemp('cfg') / 'tiny_efc.py'),
                        tiny_model_cfg('psp'))


@pytest.fixture(scope='module')
def model(tiny_cfg):
    torch.manual_seed(0)
    return init_model(tiny_cfg, device='cpu')


def frames(n=3, seed=0):
    rng = np.random.RandomState(seed)
    base = rng.randint(0, 255, (H, W + 2 * n, 3)).astype(np.uint8)
    return [np.ascontiguousarray(base[:, i:i + W]) for i in range(n)]


@pytest.fixture
def frame_dir(tmp_path):
    d = tmp_path / 'frames'
    d.mkdir()
    for i, f in enumerate(frames(3)):  # natural order: 2 before 10
        cv2.imwrite(str(d / f'f_{[2, 10, 11][i]}.png'), f)
    return str(d)


# --------------------------------------------------------------------------
def test_init_model_errors(tiny_cfg):
    with pytest.raises(FileNotFoundError, match='no_such.py'):
        init_model('no_such.py')
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        init_model(tiny_cfg, 'missing.pth')


def test_init_model_plain_mmseg_and_cfg_options(tmp_path, tiny_cfg):
    plain = write_config(str(tmp_path / 'plain.py'),
                         plain_cfg(tiny_model_cfg('psp')))
    m = init_model(plain)
    assert type(m).__name__ == 'EncoderDecoder' and not m.training
    assert m.cfg.test_pipeline[0]['type'] == 'LoadImageFromFile'
    assert len(m.dataset_meta['palette']) == 5
    m = init_model(tiny_cfg, cfg_options={
        'model.decode_head.num_classes': 3,
        'model.auxiliary_head.num_classes': 3})
    assert m.decode_head.num_classes == 3


def test_inference_segmentor_path_and_array(model, tmp_path):
    img = frames(1)[0]
    path = str(tmp_path / 'img.png')
    cv2.imwrite(path, img)
    a = inference_segmentor(model, img)
    b = inference_segmentor(model, path)
    assert a.pred_sem_seg.shape == (H, W)
    assert torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data)
    # independent: the model's own single-image forward on normalised RGB
    dp = model.data_preprocessor
    x = torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1)[None]
    x = (x.float() - dp.mean) / dp.std
    with torch.no_grad():
        logits = model.encode_decode(x, [dict(img_shape=(H, W))])
    assert torch.equal(logits.argmax(1), a.pred_sem_seg.data)
    with pytest.raises(FileNotFoundError, match='nope.png'):
        inference_segmentor(model, str(tmp_path / 'nope.png'))


def test_inference_pair(model):
    f1, f2 = frames(2)
    res = inference_pair(model, f1, f2)
    assert res['flow_fw'].shape == (H, W, 2) and res['occ_bw'].shape == (H, W)
    assert res['seg1'].dtype == np.int64 and res['seg2'].shape == (H, W)
    assert ((res['occ_fw'] >= 0) & (res['occ_fw'] <= 1)).all()
    # independent: the model's predict_flow on normalised frames
    dp = model.data_preprocessor

    def norm(f):
        x = torch.from_numpy(f[..., ::-1].copy()).permute(2, 0, 1)[None]
        return (x.float() - dp.mean) / dp.std
    with torch.no_grad():
        ref = model.predict_flow(norm(f1), norm(f2))
    np.testing.assert_allclose(
        res['flow_fw'], ref['flow_fw'][0].permute(1, 2, 0).numpy(),
        rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(res['occ_bw'], ref['occ_bw'][0, 0].numpy(),
                               rtol=1e-5, atol=1e-6)


def test_inference_pair_errors(model, tmp_path):
    f1 = frames(1)[0]
    with pytest.raises(ValueError, match=r'\(48, 64\).*\(40, 64\)'):
        inference_pair(model, f1, f1[:40])
    plain = init_model(write_config(str(tmp_path / 'p.py'),
                                    plain_cfg(tiny_model_cfg('psp'))))
    with pytest.raises(ValueError, match='no flow branch'):
        inference_pair(plain, f1, f1)
    with pytest.raises(ValueError, match='no flow branch'):
        inference_video(plain, str(tmp_path))


def test_inference_video_folder(model, frame_dir):
    out = list(inference_video(model, frame_dir, progress=False))
    assert [r['name'] for r in out] == ['f_2.png', 'f_10.png', 'f_11.png']
    assert [r['flow_to'] for r in out] == ['next', 'next', 'previous']
    f = frames(3)
    p01, p12 = inference_pair(model, f[0], f[1]), inference_pair(model, f[1],
                                                                 f[2])
    np.testing.assert_array_equal(out[0]['flow'], p01['flow_fw'])
    np.testing.assert_array_equal(out[1]['occ'], p12['occ_fw'])
    np.testing.assert_array_equal(out[2]['flow'], p12['flow_bw'])
    np.testing.assert_array_equal(out[2]['seg'], p12['seg2'])
    seg_only = list(inference_video(model, frame_dir, with_flow=False,
                                    progress=False, max_frames=2,
                                    resize=(32, 24)))
    assert len(seg_only) == 2 and seg_only[0]['flow'] is None
    assert seg_only[1]['seg'].shape == (24, 32)
    one = list(inference_video(model, frame_dir, progress=False,
                               max_frames=1))
    assert len(one) == 1 and one[0]['flow'] is None


def test_video_source_errors(model, tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.mp4'):
        inference_video(model, str(tmp_path / 'missing.mp4'))
    bad = tmp_path / 'notes.mp4'
    bad.write_text('this is not a video')
    with pytest.raises(ValueError, match='no frame could be decoded from .*'
                       'notes.mp4'):
        inference_video(model, str(bad))
    empty = tmp_path / 'empty'
    empty.mkdir()
    (empty / 'readme.txt').write_text('x')
    with pytest.raises(ValueError, match='holds no image file'):
        inference_video(model, str(empty))
    with pytest.raises(ValueError, match='max_frames'):
        FrameSource(str(empty), max_frames=0)


# --------------------------------------------------------------------------
def _load_demo():
    return load_script('demo', 'video_demo.py')


def _check_demo_outputs(out, video, n):
    assert out['frames'] == n and len(out['pngs']) == n
    panel = cv2.imread(out['pngs'][0])
    # 3 tiles of 64 px (+ a class legend when the classes fit)
    assert panel.shape[1] >= 3 * 64 and panel.shape[0] > 48
    cap = cv2.VideoCapture(video)
    count = 0
    while cap.read()[0]:
        count += 1
    size = (cap.get(cv2.CAP_PROP_FRAME_HEIGHT),
            cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    cap.release()
    assert count == n and size == panel.shape[:2]


@pytest.mark.parametrize('source', [('samples', 'video', 'tree.avi'),
                                    ('camvid', 'val')])
def test_video_demo_real_data(source, tiny_cfg, tmp_path):
    src = shared_path(*source)
    demo = _load_demo()
    video = str(tmp_path / 'out.mp4')
    out = demo.main([src, tiny_cfg, '--out-video', video, '--out-dir',
                     str(tmp_path / 'pngs'), '--max-frames', '5',
                     '--resize', '64', '48', '--no-progress'])
    _check_demo_outputs(out, video, 5)


def test_video_demo_bad_inputs(tiny_cfg, tmp_path):
    demo = _load_demo()
    with pytest.raises(FileNotFoundError, match='nothing.avi'):
        demo.main([str(tmp_path / 'nothing.avi'), tiny_cfg, '--out-dir',
                   str(tmp_path / 'o')])
    text = tmp_path / 'clip.avi'
    text.write_text('not a video')
    with pytest.raises(ValueError, match='no frame could be decoded'):
        demo.main([str(text), tiny_cfg, '--out-dir', str(tmp_path / 'o')])
    with pytest.raises(SystemExit):  # neither --out-video nor --out-dir
        demo.main([str(text), tiny_cfg])


# --------------------------------------------------------------------------
def pair_items(n=3):
    items = []
    for i in range(n):
        f1, f2 = frames(2, seed=i)
        inputs = torch.from_numpy(np.stack([f1, f2])).permute(0, 3, 1, 2)
        s = PairDataSample(metainfo=dict(frame_gap=1))
        from mmseg.structures import SegDataSample
        meta = dict(ori_shape=(H, W), img_shape=(H, W))
        s.frame1 = SegDataSample(metainfo=meta)
        s.frame2 = SegDataSample(metainfo=meta)
        items.append(dict(inputs=inputs.contiguous(), data_samples=s))
    return items


_VIS_COUNT = [0]


def stub_runner(model, work_dir, loader, visualizer=None):
    if visualizer is None:
        from efc_mm.visualization import PairLocalVisualizer
        _VIS_COUNT[0] += 1  # mmengine visualizers are named instances
        visualizer = PairLocalVisualizer(
            name=f'test_apis_vis_{_VIS_COUNT[0]}', legend=False)
    return types.SimpleNamespace(model=model, work_dir=str(work_dir),
                                 iter=10, val_dataloader=loader,
                                 logger=None, visualizer=visualizer)


def _panel_geometry(h):
    from efc_mm.visualization import footer_height, title_height
    return title_height(h), footer_height(h)


def test_pair_visualization_hook_from_val_loader(model, tmp_path):
    items = pair_items(3)
    loader = [dict(inputs=[it['inputs'] for it in items[:2]],
                   data_samples=[it['data_samples'] for it in items[:2]]),
              dict(inputs=[items[2]['inputs']],
                   data_samples=[items[2]['data_samples']])]
    runner = stub_runner(model, tmp_path, loader)
    hook = PairVisualizationHook(num_pairs=2, interval=5)
    model.train()
    runner.iter = 8  # 9th iteration: no panels
    hook.after_train_iter(runner, 8)
    assert not (tmp_path / 'vis_pairs').exists()
    runner.iter = 9  # the 10th iteration ends: panels of iter_10
    hook.after_train_iter(runner, 9)
    assert model.training  # mode restored
    folder = tmp_path / 'vis_pairs' / 'iter_10'
    names = sorted(os.listdir(folder))
    assert names == ['pair_00.png', 'pair_01.png']
    panel = cv2.imread(str(folder / 'pair_00.png'))
    t, f = _panel_geometry(H)
    # frame | segmentation | flow | occlusion, key strips below
    assert panel.shape == (2 * (t + H + f), 4 * W, 3)
    # first tile = frame 1 of the pair, as stored (BGR)
    np.testing.assert_array_equal(
        panel[t:t + H, :W], items[0]['inputs'][0].permute(1, 2, 0).numpy())
    row = t + H + f
    np.testing.assert_array_equal(
        panel[row + t:row + t + H, :W],
        items[0]['inputs'][1].permute(1, 2, 0).numpy())
    model.eval()
    # same iteration again (validation after iter 10): nothing new
    runner.iter = 10
    assert hook.visualize(runner) == []
    runner.iter = 20
    runner.val_dataloader = []  # not read again: the pairs are cached
    hook.after_val_epoch(runner)
    again = cv2.imread(str(tmp_path / 'vis_pairs' / 'iter_20' /
                           'pair_00.png'))
    np.testing.assert_array_equal(again, panel)


def test_pair_visualization_hook_dataset_and_single_frames(model, tmp_path):
    class PairList(list):
        metainfo = dict(palette=[[0, 0, 0]] * 5)
    hook = PairVisualizationHook(num_pairs=4, dataset=PairList(pair_items(2)),
                                 out_dir='panels')
    paths = hook.visualize(stub_runner(model, tmp_path, None))
    assert len(paths) == 2 and all(osp.isfile(p) for p in paths)
    assert paths[0].startswith(str(tmp_path / 'panels' / 'iter_10'))
    # a val loader of single frames: the hook disables itself, no files
    from mmseg.structures import SegDataSample
    single = [dict(inputs=[torch.zeros(3, H, W, dtype=torch.uint8)],
                   data_samples=[SegDataSample()])]
    hook = PairVisualizationHook()
    assert hook.visualize(stub_runner(model, tmp_path / 'x', single)) == []
    assert 'no pairs' in hook._disabled_reason
    assert not (tmp_path / 'x').exists()


def test_pair_visualization_hook_goes_through_the_visualizer(model,
                                                            tmp_path):
    """The hook draws with runner.visualizer.add_datasample (to the
    backends with to_backends=True) and says why when it cannot draw."""
    calls = []

    from efc_mm.visualization import PairLocalVisualizer

    class Spy(PairLocalVisualizer):
        def add_image(self, name, image, step=0):
            calls.append((name, image.shape, step))

    vis = Spy(name='test_apis_spy', legend=False)
    hook = PairVisualizationHook(num_pairs=2, dataset=pair_items(2),
                                 to_backends=True)
    assert hook.visualize(stub_runner(model, tmp_path, None, vis)) == []
    t, f = _panel_geometry(H)
    assert calls == [('pair_00', (2 * (t + H + f), 4 * W, 3), 10),
                     ('pair_01', (2 * (t + H + f), 4 * W, 3), 10)]
    assert not (tmp_path / 'vis_pairs').exists()
    # a visualizer that cannot draw pairs: disabled, with the reason
    from mmengine.visualization import Visualizer
    plain = Visualizer(name='test_apis_plain')
    hook = PairVisualizationHook(num_pairs=1, dataset=pair_items(1))
    logged = []
    runner = stub_runner(model, tmp_path, None, plain)
    runner.logger = types.SimpleNamespace(warning=logged.append)
    assert hook.visualize(runner) == []
    assert 'PairLocalVisualizer' in logged[0] and 'Visualizer' in logged[0]


def test_pair_visualization_hook_with_camvid_pair_dataset(model, tmp_path):
    root = shared_path('camvid')
    pytest.importorskip('efc_mm.datasets',
                        reason='efc_mm.datasets (pair datasets) not present')
    dataset = dict(
        type='CamVidVideoDataset', data_root=root, test_mode=True,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        pipeline=[dict(type='LoadPairFromFile'),
                  dict(type='PairResize', scale=(64, 48), keep_ratio=False),
                  dict(type='PackPairInputs')])
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    hook = PairVisualizationHook(num_pairs=2, dataset=dataset)
    paths = hook.visualize(stub_runner(model, tmp_path, None))
    assert len(paths) == 2
    panel = cv2.imread(paths[1])
    t, f = _panel_geometry(48)
    assert panel.shape == (2 * (48 + t + f), 4 * 64, 3)  # network input
    assert len(hook._dataset_meta['classes']) == 11  # CamVid metainfo


def test_image_demo(tiny_cfg, tmp_path, capsys):
    demo = load_script('demo', 'image_demo.py')
    f1, f2 = frames(2)
    p1, p2 = str(tmp_path / 'a.png'), str(tmp_path / 'b.png')
    cv2.imwrite(p1, f1)
    cv2.imwrite(p2, f2)
    pair = demo.main([p1, tiny_cfg, '--img2', p2, '--out',
                      str(tmp_path / 'pair.png')])
    assert pair.shape[1] >= 4 * W  # + the class legend
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / 'pair.png')),
                                  pair)
    single = demo.main([p1, tiny_cfg, '--out', str(tmp_path / 's.png')])
    assert single.shape[1] >= 2 * W
    # no checkpoint: a loud warning that the weights are random
    assert 'RANDOM weights' in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match='zz.png'):
        demo.main([str(tmp_path / 'zz.png'), tiny_cfg, '--out',
                   str(tmp_path / 'x.png')])


def test_pair_visualization_hook_keeps_mmengine_hook_methods():
    """Regression: the ``after_val`` option must not shadow mmengine's
    ``Hook.after_val`` method, which the runner calls after every val."""
    from mmengine.hooks import Hook

    from efc_mm.engine import PairVisualizationHook
    hook = PairVisualizationHook(after_val=True)
    assert callable(hook.after_val)
    assert type(hook).after_val is Hook.after_val


# --------------------------------------------------------------------------
# issue 10: non-finite input, random weights, images named as videos, one
# flow scale per video
# --------------------------------------------------------------------------
def test_non_finite_input_is_refused_with_its_name(model):
    f1, f2 = frames(2)
    bad = f1.astype(np.float32)
    bad[5:9, 10:20] = np.nan
    with pytest.raises(ValueError, match=r'img: .*120 non-finite.* in 40 '
                       r'pixels.*y=5, x=10'):
        inference_segmentor(model, bad)
    inf = f2.astype(np.float64)
    inf[0, 3, 1] = np.inf
    with pytest.raises(ValueError, match='img2: .*1 non-finite'):
        inference_pair(model, f1, inf)
    # finite float images are fine
    out = inference_segmentor(model, f1.astype(np.float32))
    assert out.pred_sem_seg.shape == (H, W)


def test_init_model_without_checkpoint_warns(tiny_cfg):
    with pytest.warns(UserWarning, match='RANDOM weights'):
        init_model(tiny_cfg)


def test_image_renamed_as_video_is_read_with_a_warning(model, tmp_path):
    from efc_mm.apis.video_io import image_format
    png = str(tmp_path / 'clip.avi')
    cv2.imwrite(str(tmp_path / 'f.png'), frames(1)[0])
    os.rename(str(tmp_path / 'f.png'), png)
    assert image_format(png) == 'PNG'
    with pytest.warns(UserWarning, match=r'clip.avi is a PNG image, not a '
                      r'video .*\.avi.*one frame'):
        src = FrameSource(png)
    assert len(list(src)) == 1
    # a real video says nothing
    video = str(tmp_path / 'real.avi')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (W, H))
    for f in frames(3):
        writer.write(f)
    writer.release()
    assert image_format(video) is None
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert len(list(FrameSource(video))) == 3


def test_video_demo_one_flow_scale_per_video(tiny_cfg, frame_dir, tmp_path):
    from efc_mm.visualization import (flow_key_strip, footer_height,
                                      nice_max_flow, title_height)
    demo = _load_demo()
    out = demo.main([frame_dir, tiny_cfg, '--out-dir', str(tmp_path / 'a'),
                     '--no-progress'])
    t, f = title_height(H), footer_height(H)
    keys = [cv2.imread(p)[t + H:t + H + f, W:2 * W] for p in out['pngs']]
    assert len(keys) == 3
    # the default scale is a 1-2-5 value, the same key on every frame
    assert out['max_flow'] == nice_max_flow(out['max_flow'])
    for k in keys:
        np.testing.assert_array_equal(k, flow_key_strip(W, f,
                                                        out['max_flow']))
    out = demo.main([frame_dir, tiny_cfg, '--out-dir', str(tmp_path / 'b'),
                     '--no-progress', '--max-flow', '7'])
    assert out['max_flow'] == 7
    np.testing.assert_array_equal(
        cv2.imread(out['pngs'][2])[t + H:t + H + f, W:2 * W],
        flow_key_strip(W, f, 7.0))
