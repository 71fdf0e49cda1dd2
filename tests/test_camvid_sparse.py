"""Sparse labels in CamVid's 15 Hz sequence (issue 9, deliverable 4): the
label-stride split of the datasets on the real files, temporal consistency
with DIS flow against a known translation, and the camvid_sparse configs.

The real-data tests read ``../shared/data/camvid`` beside the repository and
skip when it is absent."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from efc_mm.datasets import CamVidDataset, CamVidVideoDataset
from efc_mm.evaluation.metrics import TemporalConsistencyMetric
from efc_mm.evaluation.metrics.temporal_consistency import dis_flow

from conftest import REPO_ROOT, shared_path  # noqa: E402

init_default_scope('mmseg')

VAL = dict(img_path='val', seg_map_path='valannot')
#: frames 0, 15, ..., 90 of the sequence 07959, 07961, ... (step 2)
LABELLED = {f'0016E5_{7959 + 30 * k:05d}.png' for k in range(7)}
PIPELINE = [dict(type='LoadPairFromFile'), dict(type='LoadPairAnnotations'),
            dict(type='PackPairInputs')]


def _camvid():
    root = shared_path('camvid')
    names = sorted(os.listdir(osp.join(root, 'val')))
    return root, names


# ------------------------------------------------------------ the split
def test_stride_split_on_the_real_sequence():
    root, names = _camvid()
    assert len(names) == 101
    assert set(names[::15]) == LABELLED == {
        '0016E5_07959.png', '0016E5_07989.png', '0016E5_08019.png',
        '0016E5_08049.png', '0016E5_08079.png', '0016E5_08109.png',
        '0016E5_08139.png'}
    pos = {n: i for i, n in enumerate(names)}
    ds = CamVidVideoDataset(data_root=root, data_prefix=VAL, label_stride=15,
                            max_gap=5, pairs_per_frame=4, pipeline=PIPELINE)
    assert len(ds) == 7 * 4
    gaps, sides, lab_seen = set(), set(), set()
    for _ in range(6):
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            n1, n2 = (osp.basename(info[k]) for k in ('img_path',
                                                      'img2_path'))
            assert pos[n1] < pos[n2]          # ordered in time
            assert info['labelled'] in ((True, False), (False, True))
            lab, nbr = (n1, n2) if info['labelled'][0] else (n2, n1)
            lab_key, nbr_key = ('seg_map_path', 'seg_map2_path') if \
                info['labelled'][0] else ('seg_map2_path', 'seg_map_path')
            assert lab in LABELLED and nbr not in LABELLED
            assert info[nbr_key] is None
            assert osp.basename(info[lab_key]) == lab
            assert osp.dirname(info[lab_key]).endswith('valannot')
            t = pos[nbr] - pos[lab]
            assert 1 <= abs(t) <= 5
            assert info['frame_gap'] == 2 * abs(t)  # 30 Hz frame numbers
            gaps.add(abs(t))
            sides.add(t > 0)
            lab_seen.add(lab)
    assert gaps == {1, 2, 3, 4, 5} and sides == {True, False}
    assert lab_seen == LABELLED
    # the loaded neighbour carries no label, the labelled frame its own
    s = ds[0]['data_samples']
    lab_fr, nbr_fr = (s.frame1, s.frame2) if s.labelled[0] else \
        (s.frame2, s.frame1)
    assert (nbr_fr.gt_sem_seg.data == 255).all()
    raw = cv2.imread(osp.join(root, 'valannot', osp.basename(
        lab_fr.img_path)), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(
        lab_fr.gt_sem_seg.data[0].numpy(), np.where(raw == 11, 255, raw))


def test_first_frame_neighbours_are_after_it():
    root, names = _camvid()
    ds = CamVidVideoDataset(data_root=root, data_prefix=VAL, label_stride=15,
                            max_gap=3)
    for _ in range(20):
        info = ds.get_data_info(0)          # labelled frame 07959
        assert osp.basename(info['img_path']) == names[0]
        assert osp.basename(info['img2_path']) in names[1:4]


def test_label_offset_shifts_the_labelled_frames():
    root, names = _camvid()
    ds = CamVidVideoDataset(data_root=root, data_prefix=VAL, label_stride=15,
                            label_offset=7, max_gap=2)
    got = set()
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        got.add(osp.basename(info['img_path'] if info['labelled'][0]
                             else info['img2_path']))
    assert got == set(names[7::15]) and len(got) == 7


def test_held_out_evaluation_sets():
    root, names = _camvid()
    held_out = set(names) - LABELLED
    ev = CamVidDataset(data_root=root, data_prefix=VAL,
                       exclude_label_stride=15, exclude_label_offset=0)
    got = [osp.basename(ev.get_data_info(i)['img_path'])
           for i in range(len(ev))]
    assert len(got) == 94 and set(got) == held_out
    assert not LABELLED & set(got)
    # consecutive pairs: all 100, the 7 training frames without a label
    pairs = CamVidVideoDataset(data_root=root, data_prefix=VAL,
                               test_mode=True, exclude_label_stride=15)
    assert len(pairs) == 100
    labelled = set()
    for i in range(100):
        info = pairs.get_data_info(i)
        for k, (img, seg) in enumerate((('img_path', 'seg_map_path'),
                                        ('img2_path', 'seg_map2_path'))):
            name = osp.basename(info[img])
            assert (info[seg] is None) == (name in LABELLED)
            assert info['labelled'][k] == (name not in LABELLED)
            if info[seg] is not None:
                labelled.add(name)
    assert labelled == held_out


def test_label_stride_one_keeps_the_old_pairs():
    root, _ = _camvid()
    old = CamVidVideoDataset(data_root=root, data_prefix=VAL)
    new = CamVidVideoDataset(data_root=root, data_prefix=VAL, label_stride=1,
                             label_offset=0)
    assert len(old) == len(new) == 101
    for i in (0, 40, 100):
        for ds in (old, new):
            info = ds.get_data_info(i)
            assert info['labelled'] == (True, True)
            assert info['frame_gap'] == 2


@pytest.mark.parametrize('kwargs,field', [
    (dict(label_stride=0), 'label_stride'),
    (dict(label_stride=-3), 'label_stride'),
    (dict(label_stride=2.5), 'label_stride'),
    (dict(label_stride=True), 'label_stride'),
    (dict(label_stride=15, label_offset=15), 'label_offset'),
    (dict(label_stride=15, label_offset=-1), 'label_offset'),
    (dict(exclude_label_stride=1, test_mode=True), 'exclude_label_stride'),
    (dict(exclude_label_stride=15, exclude_label_offset=20, test_mode=True),
     'exclude_label_offset'),
    (dict(exclude_label_stride=15), 'exclude_label_stride'),  # train mode
    (dict(label_stride=15, test_mode=True), 'label_stride'),  # consecutive
])
def test_bad_stride_arguments(tmp_path, kwargs, field):
    with pytest.raises(ValueError, match=field):
        CamVidVideoDataset(data_root=str(tmp_path), data_prefix=VAL,
                           **kwargs)


@pytest.mark.parametrize('kwargs,field', [
    (dict(exclude_label_stride=0), 'exclude_label_stride'),
    (dict(exclude_label_stride='15'), 'exclude_label_stride'),
    (dict(exclude_label_stride=15, exclude_label_offset=15),
     'exclude_label_offset'),
])
def test_bad_stride_arguments_single_frames(tmp_path, kwargs, field):
    with pytest.raises(ValueError, match=field):
        CamVidDataset(data_root=str(tmp_path), data_prefix=VAL, **kwargs)


def _touch_sequence(root, frames):
    for d in ('val', 'valannot'):
        os.makedirs(osp.join(root, d), exist_ok=True)
        for f in frames:
            open(osp.join(root, d, f'0001TP_{f:05d}.png'), 'wb').close()


def test_stride_without_neighbours_or_labels(tmp_path):
    _touch_sequence(str(tmp_path), [10])
    with pytest.raises(ValueError, match='no unlabelled frame within'):
        CamVidVideoDataset(data_root=str(tmp_path), data_prefix=VAL,
                           label_stride=2)
    _touch_sequence(str(tmp_path), [12])
    with pytest.raises(ValueError, match='label_offset=3'):
        CamVidVideoDataset(data_root=str(tmp_path), data_prefix=VAL,
                           label_stride=5, label_offset=3)


# ------------------------------------------------------------ DIS flow TC
def _texture(h, w, seed=0):
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.uniform(0, 255, (h, w)).astype(np.float32),
                           (0, 0), 1.5)
    img = (img - img.min()) / (img.max() - img.min()) * 255
    return img.astype(np.uint8)


#: true flow frame 1 -> frame 2 (integer pixels)
DX, DY = 3, -2


def _shifted_pair(h=96, w=128, m=10):
    """Crops of one textured world and of one block label world: frame 1
    at offset (m, m), frame 2 at (m - DY, m - DX), so that
    frame1(p) = frame2(p + (DX, DY))."""
    world = _texture(h + 2 * m, w + 2 * m)
    ys, xs = np.mgrid[:h + 2 * m, :w + 2 * m]
    labels = ((ys // 12) * 3 + (xs // 16)) % 5
    c1 = (slice(m, m + h), slice(m, m + w))
    c2 = (slice(m - DY, m - DY + h), slice(m - DX, m - DX + w))
    return world[c1], world[c2], labels[c1], labels[c2]


def test_dis_flow_recovers_a_known_translation():
    img1, img2, _, _ = _shifted_pair()
    # the construction itself: frame1(p) = frame2(p + (DX, DY))
    np.testing.assert_array_equal(img1[5:-5, 5:-5],
                                  img2[5 + DY:-5 + DY, 5 + DX:-5 + DX])
    flow = dis_flow(img1, img2)
    assert flow.shape == (96, 128, 2) and flow.dtype == np.float32
    inner = flow[8:-8, 8:-8].reshape(-1, 2)
    np.testing.assert_allclose(np.median(inner, 0), [DX, DY], atol=0.1)
    assert np.abs(inner - [DX, DY]).mean() < 0.1
    with pytest.raises(ValueError, match='preset'):
        dis_flow(img1, img2, preset='slow')


def _sample(tmp_path, img1, img2, pred1, pred2, with_paths=True):
    p1, p2 = str(tmp_path / 'f1.png'), str(tmp_path / 'f2.png')
    cv2.imwrite(p1, img1)
    cv2.imwrite(p2, img2)
    frames = []
    for p, pred in ((p1, pred1), (p2, pred2)):
        fr = dict(pred_sem_seg=dict(data=torch.from_numpy(pred[None])))
        if with_paths:
            fr['img_path'] = p
        frames.append(fr)
    return dict(frame1=frames[0], frame2=frames[1])


def _tc(sample, **kwargs):
    m = TemporalConsistencyMetric(num_classes=5, **kwargs)
    m.process({}, [sample])
    return m.compute_metrics(m.results)


def test_tc_with_dis_flow_of_an_exactly_shifted_prediction(tmp_path):
    img1, img2, lab1, lab2 = _shifted_pair()
    tc = _tc(_sample(tmp_path, img1, img2, lab1, lab2), flow_source='dis')
    assert list(tc) == ['TC(flow=DIS)']
    assert tc["TC(flow=DIS)"] > 99.5
    # the same predictions with the true flow: 100 (independent reference)
    s = _sample(tmp_path, img1, img2, lab1, lab2)
    s['gt_flow_fw'] = dict(data=torch.tensor([DX, DY], dtype=torch.float32)
                           .view(2, 1, 1).expand(2, 96, 128).clone())
    assert _tc(s, flow_source='gt')['TC(flow=gt)'] == pytest.approx(100.0)
    # a prediction that did not move with the images is inconsistent along
    # the DIS flow (and consistent along zero flow, which DIS is not)
    tc_static = _tc(_sample(tmp_path, img1, img2, lab1, lab1),
                    flow_source='dis')['TC(flow=DIS)']
    assert tc_static < 70.0


def test_tc_dis_resizes_images_to_the_prediction(tmp_path):
    img1, img2, lab1, lab2 = _shifted_pair(h=96, w=128)
    big = [cv2.resize(i, (256, 192), interpolation=cv2.INTER_CUBIC)
           for i in (img1, img2)]
    tc = _tc(_sample(tmp_path, big[0], big[1], lab1, lab2),
             flow_source='dis')['TC(flow=DIS)']
    assert tc > 97.0


def test_tc_dis_errors(tmp_path):
    img1, img2, lab1, lab2 = _shifted_pair()
    with pytest.raises(KeyError, match='img_path'):
        _tc(_sample(tmp_path, img1, img2, lab1, lab2, with_paths=False),
            flow_source='dis')
    s = _sample(tmp_path, img1, img2, lab1, lab2)
    s['frame2']['img_path'] = str(tmp_path / 'missing.png')
    with pytest.raises(FileNotFoundError, match='missing.png'):
        _tc(s, flow_source='dis')
    with pytest.raises(ValueError, match='dis_preset'):
        TemporalConsistencyMetric(flow_source='dis', dis_preset='best')


# ------------------------------------------------------------ configs
CONFIGS = ['psp_efc_tiny_camvid_sparse.py',
           'psp_baseline_tiny_camvid_sparse.py']


def _cfg(name):
    from mmengine.config import Config
    return Config.fromfile(osp.join(REPO_ROOT, 'configs', 'camvid_sparse',
                                    name))


def test_configs_state_the_protocol():
    efc, base = (_cfg(n) for n in CONFIGS)
    for cfg in (efc, base):
        assert cfg.model.decode_head.num_classes == 11
        assert cfg.model.auxiliary_head.num_classes == 11
        tr = cfg.train_dataloader
        assert tr.batch_size == 4
        assert tr.dataset.label_stride == 15
        assert cfg.val_dataloader.dataset.exclude_label_stride == 15
        assert cfg.val_dataloader.dataset.mode == 'consecutive'
        assert cfg.train_cfg.max_iters == 1000
        assert cfg.train_cfg.val_interval == 250
        assert cfg.param_scheduler[0].type == 'PolyLR'
        assert cfg.param_scheduler[0].end == 1000
        tc = [m for m in cfg.val_evaluator
              if m.type == 'TemporalConsistencyMetric']
        assert [m.flow_source for m in tc] == ['dis']
        # the default data root resolves to ../shared/data/camvid
        assert osp.normpath(osp.join(REPO_ROOT, tr.dataset.data_root)) == \
            osp.normpath(osp.join(REPO_ROOT, '..', 'shared', 'data',
                                  'camvid'))
    # L_cons's schedule: fractions of the run (iterations 300 -> 500 of 1000)
    sched = efc.model.losses.consistency.weight_schedule
    assert (sched.begin, sched.end) == (0.3, 0.5)
    assert base.model.flow_decoder is None
    assert base.model.losses is None


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_and_trains_one_step(name):
    from mmengine.dataset import pseudo_collate
    from mmengine.logging import MessageHub
    from mmengine.optim import OptimWrapper

    from efc_mm.registry import DATASETS, MODELS
    root = shared_path('camvid')
    cfg = _cfg(name)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert model.with_flow == (name.startswith('psp_efc'))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = root
    ds = DATASETS.build(ds_cfg)
    np.random.seed(0)
    data = pseudo_collate([ds[i] for i in range(2)])
    assert data['inputs'][0].shape == (2, 3, 128, 128)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    model.train()
    # what the runner publishes (L_cons's schedule is fractions of max_iters)
    hub = MessageHub.get_instance('camvid_sparse_one_step')
    hub.update_info('iter', 0)
    hub.update_info('max_iters', cfg.train_cfg.max_iters)
    try:
        logs = model.train_step(data, optim)
    finally:
        hub.update_info('iter', None)
        hub.update_info('max_iters', None)
    assert torch.isfinite(logs['loss'])
    assert any('loss_ce' in k for k in logs)
    assert any(k.startswith('loss_pm') or 'photometric' in k
               for k in logs) == model.with_flow


def test_val_pipeline_keeps_full_resolution_labels():
    from efc_mm.registry import DATASETS
    root, names = _camvid()
    cfg = _cfg(CONFIGS[0])
    ds_cfg = cfg.val_dataloader.dataset
    ds_cfg.data_root = root
    ds = DATASETS.build(ds_cfg)
    out = ds[0]                                 # frames 07959 (train), 07961
    assert out['inputs'].shape == (2, 3, 180, 240)
    s = out['data_samples']
    assert s.labelled == (False, True)
    assert (s.frame1.gt_sem_seg.data == 255).all()
    assert s.frame2.gt_sem_seg.shape == (360, 480)
    raw = cv2.imread(osp.join(root, 'valannot', names[1]),
                     cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(s.frame2.gt_sem_seg.data[0].numpy(),
                                  np.where(raw == 11, 255, raw))


@pytest.mark.parametrize('name', CONFIGS)
def test_config_validates_one_pair(name):
    """predict on one held-out pair at 240x180 and the config's metrics:
    predictions at 480x360 against full-resolution labels, DIS TC."""
    from mmengine.dataset import pseudo_collate
    from mmengine.evaluator import Evaluator

    from efc_mm.registry import DATASETS, MODELS
    root = shared_path('camvid')
    cfg = _cfg(name)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    ds_cfg = cfg.val_dataloader.dataset
    ds_cfg.data_root = root
    ds = DATASETS.build(ds_cfg)
    batch = pseudo_collate([ds[1]])
    with torch.no_grad():
        outs = model.val_step(batch)
    assert outs[0].frame1.pred_sem_seg.shape == (360, 480)
    ev = Evaluator(list(cfg.val_evaluator))
    ev.dataset_meta = ds.metainfo
    ev.process(outs, batch)
    res = ev.evaluate(1)
    assert 0 <= res['mIoU'] <= 100 and 0 <= res['TC(flow=DIS)'] <= 100


# ------------------------------------------------------ the split override
def _loaders_split(cfg):
    tr = cfg.train_dataloader.dataset
    return ((tr.label_stride, tr.label_offset),
            (cfg.val_dataloader.dataset.exclude_label_stride,
             cfg.val_dataloader.dataset.exclude_label_offset),
            (cfg.test_dataloader.dataset.exclude_label_stride,
             cfg.test_dataloader.dataset.exclude_label_offset))


@pytest.mark.parametrize('name', CONFIGS)
def test_label_split_override_changes_train_and_eval(name):
    """``--cfg-options label_split.stride=5`` is the one override: train
    label_stride and both evaluation exclude_label_strides follow."""
    from efc_mm.datasets import apply_label_split
    cfg = _cfg(name)
    assert apply_label_split(cfg) == []        # the protocol as written
    assert _loaders_split(cfg) == ((15, 0), ) * 3
    cfg.merge_from_dict({'label_split.stride': 5, 'label_split.offset': 2})
    changed = apply_label_split(cfg)
    assert _loaders_split(cfg) == ((5, 2), ) * 3
    assert 'train_dataloader.dataset.label_stride=5' in changed
    assert 'test_dataloader.dataset.exclude_label_offset=2' in changed


def test_label_split_in_a_child_config(tmp_path):
    """A child config's ``label_split`` (resolved after the base wrote its
    dataloader dicts) reaches every dataset; stride 1 means dense labels
    and no held-out exclusion."""
    from mmengine.config import Config

    from efc_mm.datasets import apply_label_split
    parent = osp.join(REPO_ROOT, 'configs', 'camvid_sparse', CONFIGS[0])
    child = tmp_path / 'child.py'
    child.write_text(f'_base_ = [{parent!r}]\nlabel_split = dict(stride=5)\n')
    cfg = Config.fromfile(str(child))
    assert cfg.label_split == dict(stride=5, offset=0)
    assert _loaders_split(cfg) == ((15, 0), ) * 3   # resolved in the base
    apply_label_split(cfg)
    assert _loaders_split(cfg) == ((5, 0), ) * 3
    child.write_text(f'_base_ = [{parent!r}]\nlabel_split = dict(stride=1)\n')
    cfg = Config.fromfile(str(child))
    apply_label_split(cfg)
    assert _loaders_split(cfg) == ((1, 0), (None, 0), (None, 0))


@pytest.mark.parametrize('override,fields', [
    ({'train_dataloader.dataset.label_stride': 5},
     ('train_dataloader.dataset.label_stride=5',
      'val_dataloader.dataset.exclude_label_stride=15')),
    ({'val_dataloader.dataset.exclude_label_stride': 5},
     ('train_dataloader.dataset.label_stride=15',
      'val_dataloader.dataset.exclude_label_stride=5')),
    ({'test_dataloader.dataset.exclude_label_offset': 3},
     ('train_dataloader.dataset.label_offset=0',
      'test_dataloader.dataset.exclude_label_offset=3')),
    # label_split changed, and the train field by hand to something else
    ({'label_split.stride': 5, 'train_dataloader.dataset.label_stride': 3},
     ('train_dataloader.dataset.label_stride=3',
      'val_dataloader.dataset.exclude_label_stride=5')),
])
def test_mismatched_split_fails_naming_both_fields(override, fields):
    from efc_mm.datasets import apply_label_split
    cfg = _cfg(CONFIGS[0])
    cfg.merge_from_dict(override)
    with pytest.raises(ValueError, match='label split mismatch') as err:
        apply_label_split(cfg)
    for field in fields:
        assert field in str(err.value)
    assert 'label_split=dict(stride=S, offset=O)' in str(err.value)


def test_fields_edited_alike_by_hand_are_kept():
    from efc_mm.datasets import apply_label_split
    cfg = _cfg(CONFIGS[0])
    cfg.merge_from_dict({'train_dataloader.dataset.label_stride': 5,
                         'val_dataloader.dataset.exclude_label_stride': 5,
                         'test_dataloader.dataset.exclude_label_stride': 5})
    assert apply_label_split(cfg) == []
    assert _loaders_split(cfg) == ((5, 0), ) * 3


def test_top_level_label_stride_is_refused():
    """The trap of issue 19: a top-level ``label_stride`` reaches nothing."""
    from efc_mm.datasets import apply_label_split
    cfg = _cfg(CONFIGS[0])
    cfg.merge_from_dict({'label_stride': 5})
    with pytest.raises(ValueError, match=r'top-level label_stride=5.*'
                       r'label_split=dict\(stride=S'):
        apply_label_split(cfg)


def test_other_frames_are_not_compared():
    """An evaluation dataset over other frames (another data root) may use
    any split; bad label_split values are refused."""
    from efc_mm.datasets import apply_label_split, check_label_split
    cfg = _cfg(CONFIGS[0])
    cfg.merge_from_dict({'val_dataloader.dataset.data_root': '/elsewhere',
                         'val_dataloader.dataset.exclude_label_stride': 5})
    check_label_split(cfg)
    cfg.merge_from_dict({'label_split.stride': 0})
    with pytest.raises(ValueError, match='label_split: stride'):
        apply_label_split(cfg)


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
def test_tools_refuse_a_mismatched_split(tool, tmp_path):
    """Before any model or data is built."""
    from conftest import load_script
    main = load_script('tools', tool).main
    args = [osp.join(REPO_ROOT, 'configs', 'camvid_sparse', CONFIGS[0]),
            '--work-dir', str(tmp_path)]
    if tool == 'test.py':
        ckpt = tmp_path / 'never_loaded.pth'
        ckpt.write_bytes(b'')
        args.insert(1, str(ckpt))
    with pytest.raises(ValueError, match='train_dataloader.dataset.'
                       'label_stride=5.*val_dataloader.dataset.'
                       'exclude_label_stride=15'):
        main(args + ['--cfg-options',
                     'train_dataloader.dataset.label_stride=5'])
