"""The protocols of issue 17 with the pretrained EfficientNet-Lite0 encoder:
the CamVid headroom split (``label_split.held_out_stride``: the oracle and
the baseline scored on the same frames), the "+ 367 train images" variant
(two labelled sources at a fixed ratio), and one training step of every
model these configs build. Real-data tests read ``../shared/data/camvid``
and skip when it is absent."""
import glob
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import efc_mm  # noqa: F401
from efc_mm.datasets import apply_label_split, check_label_split
from efc_mm.datasets.camvid_video import held_out_split
from efc_mm.testing import pair_batch, sync_bn_to_bn

from conftest import REPO_ROOT, shared_path  # noqa: E402

init_default_scope('mmseg')
CAMVID = osp.join(REPO_ROOT, 'configs', 'camvid_headroom')
SYNTH = osp.join(REPO_ROOT, 'configs', 'synthetic_headroom')
EFFNET_CONFIGS = sorted(glob.glob(osp.join(CAMVID, '*.py')) +
                        glob.glob(osp.join(SYNTH, '*effnet*.py')))


def _cfg(path):
    cfg = Config.fromfile(path)
    if 'label_split' in cfg:
        apply_label_split(cfg)
    return cfg


def _sources(cfg):
    ds = cfg.train_dataloader.dataset
    return list(ds.sources) if 'sources' in ds else [ds]


# ------------------------------------------------------- held-out split
def test_held_out_split_arithmetic():
    assert held_out_split(dict(stride=15, offset=0)) == (15, 0)
    assert held_out_split(dict(stride=15, offset=0, held_out_stride=5)) \
        == (5, 0)
    # offset 7 on stride 15 is position 7, 22, ...: on stride 5 offset 2
    assert held_out_split(dict(stride=15, offset=7, held_out_stride=5)) \
        == (5, 2)
    for bad in (4, 1, 0, 2.5, True):
        with pytest.raises(ValueError, match='held_out_stride'):
            held_out_split(dict(stride=15, offset=0, held_out_stride=bad))


@pytest.mark.parametrize('name,train,held', [
    ('psp_baseline_effnet_camvid_headroom.py', (15, 0), (5, 0)),
    ('psp_efc_effnet_camvid_headroom.py', (15, 0), (5, 0)),
    ('psp_oracle_effnet_camvid_headroom.py', (5, 0), (5, 0)),
    ('deeplabv3plus_efc_effnet_camvid_headroom.py', (15, 0), (5, 0)),
])
def test_camvid_headroom_splits(name, train, held):
    """Every row of the CamVid headroom protocol is scored on the frames
    off stride 5; the rows differ only in the training labels."""
    cfg = _cfg(osp.join(CAMVID, name))
    (src, ) = _sources(cfg)
    assert (src.label_stride, src.label_offset) == train
    for loader in ('val_dataloader', 'test_dataloader'):
        ds = cfg[loader].dataset
        assert (ds.exclude_label_stride, ds.exclude_label_offset) == held


def test_hand_edited_held_out_field_is_refused():
    """A declared held-out split does not license any other: an evaluation
    field edited by hand to stride 3 still fails, naming label_split."""
    cfg = _cfg(osp.join(CAMVID, 'psp_efc_effnet_camvid_headroom.py'))
    cfg.val_dataloader.dataset.exclude_label_stride = 3
    with pytest.raises(ValueError, match='label split mismatch'):
        check_label_split(cfg)
    # and without held_out_stride, stride 15 training / stride 5 evaluation
    # is the mismatch it always was
    cfg = _cfg(osp.join(CAMVID, 'psp_efc_effnet_camvid_headroom.py'))
    del cfg.label_split['held_out_stride']
    with pytest.raises(ValueError, match='label split mismatch'):
        check_label_split(cfg)


def _frame_names(ds):
    names = set()
    for i in range(len(ds)):
        names.add(osp.basename(ds.get_data_info(i)['img_path']))
    return names


def test_oracle_and_baseline_scored_on_the_same_unlabelled_frames():
    """On the real sequence: 80 evaluated frames, the same for baseline,
    oracle and EFC, none of them a training label of any row; the oracle
    trains on 21 labelled frames, the baseline on 7 of them."""
    shared_path('camvid', 'val')
    from mmseg.registry import DATASETS
    evaluated, labels = {}, {}
    for row in ('baseline', 'oracle', 'efc'):
        cfg = _cfg(osp.join(CAMVID, f'psp_{row}_effnet_camvid_headroom.py'))
        ev = dict(type='CamVidDataset', data_root=cfg.data_root,
                  data_prefix=dict(img_path='val', seg_map_path='valannot'),
                  exclude_label_stride=cfg.val_dataloader.dataset
                  .exclude_label_stride, pipeline=[])
        evaluated[row] = _frame_names(DATASETS.build(ev))
        train = DATASETS.build(dict(_sources(cfg)[0], pipeline=[]))
        lab = set()
        for i in range(len(train)):
            info = train.get_data_info(i)
            lab.add(osp.basename(info['img_path'] if info['labelled'][0]
                                 else info['img2_path']))
        labels[row] = lab
    names = sorted(os.listdir(osp.join(shared_path('camvid'), 'val')))
    assert len(evaluated['baseline']) == 80
    assert evaluated['baseline'] == evaluated['oracle'] == evaluated['efc'] \
        == set(names) - set(names[::5])
    assert labels['oracle'] == set(names[::5]) and len(labels['oracle']) == 21
    assert labels['baseline'] == labels['efc'] == set(names[::15])
    for row in labels:
        assert not labels[row] & evaluated['baseline']


# ------------------------------------------------- + 367 train images
def test_train367_variant_batches_hold_both_sources():
    """Every batch of 4 holds 2 pairs of the sequence protocol and 2 pairs
    of train/ frames (both labelled there); the sequence keeps its split
    (stride 15, or 5 in the oracle)."""
    shared_path('camvid', 'train')
    from mmengine.registry import DATA_SAMPLERS
    from mmseg.registry import DATASETS
    for row, stride in (('efc', 15), ('baseline', 15), ('oracle', 5)):
        cfg = _cfg(osp.join(
            CAMVID, f'psp_{row}_effnet_camvid_headroom_train367.py'))
        seq, extra = _sources(cfg)
        assert seq.label_stride == stride
        assert extra.data_prefix.img_path == 'train'
        assert extra.get('label_stride', 1) == 1
    ds_cfg = cfg.train_dataloader.dataset
    ds = DATASETS.build(dict(ds_cfg, sources=[dict(s, pipeline=[])
                                              for s in ds_cfg.sources]))
    n_seq = 21 * 10  # the oracle's 21 labelled frames, 10 pairs each
    assert len(ds) == n_seq + 367
    sampler = DATA_SAMPLERS.build(dict(cfg.train_dataloader.sampler,
                                       dataset=ds, seed=0))
    it = iter(sampler)
    for _ in range(20):
        batch = [next(it) for _ in range(4)]
        assert sum(i < n_seq for i in batch) == 2
        for i in batch:
            info = ds.get_data_info(i)
            if i >= n_seq:
                assert 'camvid/train' in info['img_path'].replace('\\', '/')
                assert info['labelled'] == (True, True)


# ------------------------------------------------------ the models
@pytest.mark.parametrize('path', EFFNET_CONFIGS,
                         ids=[osp.basename(p) for p in EFFNET_CONFIGS])
def test_effnet_config_trains_one_step(path):
    """Each config's model (random weights: the converted ImageNet file is
    not needed) builds on the EfficientNet-Lite0 backbone with its head,
    and one SGD step on a pair batch gives finite losses and moves the
    backbone."""
    from mmseg.registry import MODELS
    cfg = Config.fromfile(path)
    model_cfg = sync_bn_to_bn(cfg.model.to_dict())
    assert model_cfg['backbone']['type'] == 'EfficientNetLite'
    assert cfg.model.pretrained == 'pretrain/efficientnet_lite0_mmseg.pth'
    model_cfg['pretrained'] = None
    model = MODELS.build(model_cfg)
    head = 'DepthwiseSeparableASPPHead' if 'deeplabv3plus' in path \
        else 'PSPHead'
    assert type(model.decode_head).__name__ == head
    assert model.with_flow == ('_efc_' in osp.basename(path))
    torch.manual_seed(0)
    n_cls = cfg.model.decode_head.num_classes
    inputs, samples = pair_batch(b=2, h=64, w=64, num_classes=n_cls)
    model.train()
    before = [p.detach().clone() for p in model.backbone.parameters()]
    # the last iteration of the run: every scheduled loss (L_cons) is on
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', cfg.train_cfg.max_iters - 1)
    hub.update_info('max_iters', cfg.train_cfg.max_iters)
    try:
        losses = model.loss(inputs, samples)
    finally:
        hub.update_info('iter', None)
        hub.update_info('max_iters', None)
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    if model.with_flow:
        assert {'loss_pm', 'loss_sm', 'loss_occ', 'loss_cons'} <= \
            set(losses)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    loss.backward()
    opt.step()
    moved = sum(not torch.equal(a, b.detach())
                for a, b in zip(before, model.backbone.parameters()))
    assert moved > 0


def test_backbone_learns_at_a_tenth_of_the_rate():
    """The pretrained configs' optimizer: backbone parameters at lr x 0.1,
    the heads and flow decoder at the base rate (mmengine's paramwise)."""
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS
    cfg = Config.fromfile(osp.join(SYNTH, 'psp_efc_effnet_headroom.py'))
    model_cfg = sync_bn_to_bn(cfg.model.to_dict())
    model_cfg['pretrained'] = None
    model = MODELS.build(model_cfg)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base = cfg.optim_wrapper.optimizer.lr
    names = {id(p): n for n, p in model.named_parameters()}
    seen = set()
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            name = names[id(p)]
            want = base * 0.1 if name.startswith('backbone.') else base
            assert group['lr'] == pytest.approx(want), name
            seen.add(name.split('.')[0])
    assert {'backbone', 'decode_head', 'flow_decoder'} <= seen
