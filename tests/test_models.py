"""EFC models: segmentor, flow decoder, Dilation backbone/head, configs.

Per model (ptlflow style): forward, training step, and an overfit test on a
real pair. Tiny widths, 64x64 inputs; run with OMP_NUM_THREADS=1.
"""
import copy
import glob
import os.path as osp

import pytest
import torch

import efc_mm  # noqa: F401  (registers everything)
from mmengine.config import Config, ConfigDict
from mmseg.registry import MODELS

from efc_mm.models.segmentors import StagedBackbone
from conftest import REPO_ROOT as REPO  # noqa: E402
from efc_mm.testing import pair_batch, plain_cfg, tiny_model_cfg  # noqa: E402

from mmengine.registry import init_default_scope

init_default_scope('mmseg')
torch.set_num_threads(1)

EFC_LOSSES = ('loss_pm', 'loss_sm', 'loss_cons', 'loss_occ')


def _build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(ConfigDict(cfg))
    model.init_weights()
    return model


# ---------------------------------------------------------------- backbone
@pytest.mark.parametrize('kind', ['psp', 'dilation'])
def test_staged_backbone_reproduces_forward(kind):
    """Stage-by-stage run == backbone(x), bit for bit (the split must not
    change what the seg branch sees)."""
    model = _build(tiny_model_cfg(kind)).eval()
    x = torch.randn(2, 3, 64, 48)
    stages = StagedBackbone(model.backbone)
    with torch.no_grad():
        ref = model.backbone(x)
        outs = stages.run(x, 0, len(stages.names))
        got = stages.assemble(outs)
    assert len(got) == len(ref)
    for a, b in zip(got, ref):
        assert torch.equal(a, b)


def test_dilated_vgg_output_stride_and_context_dilations():
    from efc_mm.models.backbones import DilatedVGG16
    from efc_mm.models.decode_heads.context_module_head import (
        DILATION8_DILATIONS, DILATION10_DILATIONS)
    vgg = DilatedVGG16(widths=(4, 8, 8, 8, 8), fc_channels=8,
                       out_indices=(0, 1, 2, 3, 4, 5))
    outs = vgg(torch.randn(1, 3, 64, 80))
    assert [o.shape[-2:] for o in outs] == [(32, 40), (16, 20)] + [(8, 10)] * 4
    assert vgg.fc[0].dilation == (4, 4) and vgg.fc[0].kernel_size == (7, 7)
    assert all(m.dilation == (2, 2) for m in vgg.conv5
               if isinstance(m, torch.nn.Conv2d))
    # Yu & Koltun: Dilation8 = 7 3x3 layers + 1x1; Dilation10 = 9 + 1x1
    assert len(DILATION8_DILATIONS) + 1 == 8
    assert len(DILATION10_DILATIONS) + 1 == 10
    with pytest.raises(ValueError, match='expects'):
        vgg(torch.randn(1, 1, 32, 32))


def test_context_module_identity_init():
    """Identity init: the context module passes the front-end scores through
    unchanged (Yu & Koltun Sec. 3) -- for non-negative inputs."""
    from efc_mm.models.decode_heads import ContextModuleHead
    head = ContextModuleHead(in_channels=6, channels=4, num_classes=4,
                             dropout_ratio=0.0, dilations=(1, 2, 4))
    head.init_weights()
    x = torch.rand(1, 4, 16, 16)
    assert torch.allclose(head.context(x), x)


# ---------------------------------------------------------------- decoder
def _decoder(**kw):
    from efc_mm.models.flow_decoders import EFCFlowDecoder
    from efc_mm.testing import TINY_FLOW
    return EFCFlowDecoder(in_channels=(8, 16, 32, 32), **{**TINY_FLOW, **kw})


def _pyramid(n=2, h=64, w=48):
    chans, strides = (8, 16, 32, 32), (2, 4, 8, 8)
    return [torch.randn(n, c, -(-h // s), -(-w // s))
            for c, s in zip(chans, strides)]


def test_flow_decoder_shapes_every_level():
    dec = _decoder()
    out = dec(_pyramid(), _pyramid())
    assert out['strides'] == [32, 16, 8, 4]
    assert len(out['flows']) == len(out['occlusions']) == 4
    for flow, occ, s in zip(out['flows'], out['occlusions'], out['strides']):
        assert flow.shape == (2, 2, -(-64 // s), -(-48 // s))
        assert occ.shape == (2, 1, -(-64 // s), -(-48 // s))
        assert occ.min() >= 0 and occ.max() <= 1
    # odd sizes (713-like rounding) still give consistent levels
    out = dec(_pyramid(1, 90, 70), _pyramid(1, 90, 70))
    assert out['flows'][-1].shape[-2:] == (23, 18)


def test_flow_decoder_clear_errors():
    dec = _decoder()
    with pytest.raises(ValueError, match='asks for encoder level 3'):
        dec(_pyramid()[:3], _pyramid()[:3])
    p2 = _pyramid(2, 32, 48)
    with pytest.raises(ValueError, match='pair features differ'):
        dec(_pyramid(), p2)
    bad = _pyramid()
    bad[1] = torch.randn(2, 5, 16, 12)
    with pytest.raises(ValueError, match='16 channels'):
        dec(bad, bad)
    from efc_mm.models.flow_decoders import EFCFlowDecoder
    with pytest.raises(ValueError, match='equal length'):
        EFCFlowDecoder(in_channels=(8, 16), in_index=(0, 1, 2),
                       in_strides=(2, 4, 8))


def test_segmentor_rejects_decoder_level_beyond_shared_encoder():
    cfg = tiny_model_cfg('psp')
    cfg['flow_decoder'].update(in_channels=(16, 16, 32, 64, 128),
                               in_index=(0, 1, 2, 3, 4),
                               in_strides=(2, 4, 8, 8, 8))
    with pytest.raises(ValueError, match='encoder level 4'):
        MODELS.build(cfg)


# ---------------------------------------------------------------- predict
@pytest.mark.parametrize('kind', ['psp', 'dilation'])
def test_predict_bit_identical_to_encoder_decoder(kind):
    """Single-image inference is mmseg's, unchanged: same weights, same
    input -> torch.equal logits and labels."""
    efc = _build(tiny_model_cfg(kind)).eval()
    plain = MODELS.build(ConfigDict(plain_cfg(tiny_model_cfg(kind)))).eval()
    missing, unexpected = plain.load_state_dict(efc.state_dict(), strict=False)
    assert not missing
    assert all(k.startswith(('flow_decoder.', 'loss_')) for k in unexpected)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        a = efc.predict(x)
        b = plain.predict(x)
    for ra, rb in zip(a, b):
        assert torch.equal(ra.seg_logits.data, rb.seg_logits.data)
        assert torch.equal(ra.pred_sem_seg.data, rb.pred_sem_seg.data)


def test_pair_predict_fills_pair_sample_at_original_size():
    model = _build(tiny_model_cfg('psp')).eval()
    inputs, samples = pair_batch(b=1, h=64, w=64)
    for f in samples[0].frames:  # 56x60 image padded to 64x64, ori 112x120
        f.set_metainfo(dict(img_shape=(56, 60), ori_shape=(112, 120)))
    samples[0].set_metainfo(dict(img_shape=(56, 60), ori_shape=(112, 120)))
    with torch.no_grad():
        out = model.predict(inputs, samples)[0]
        raw = model.predict_flow(inputs[:, 0], inputs[:, 1])
    assert out.pred_flow_fw.shape == (112, 120)
    assert out.pred_flow_fw.data.shape[0] == 2
    assert out.pred_occ_bw.data.shape == (1, 112, 120)
    assert out.frame1.pred_sem_seg.shape == (112, 120)
    assert out.frame2.seg_logits.data.shape == (5, 112, 120)
    # vectors rescaled by the resize (x2): independent check at one pixel
    f = raw['flow_fw'][0, :, :56, :60]
    ref = torch.nn.functional.interpolate(f[None], size=(112, 120),
                                          mode='bilinear') * 2
    assert torch.allclose(out.pred_flow_fw.data, ref[0], atol=1e-5)
    assert raw['flow_fw'].shape == (1, 2, 64, 64)
    assert 0 <= raw['occ_bw'].min() and raw['occ_bw'].max() <= 1


# ---------------------------------------------------------------- training
def _train_step(model, inputs, samples):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    losses = model.loss(inputs, samples)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    opt.zero_grad()
    total.backward()
    return losses, opt


@pytest.mark.parametrize('kind', ['psp', 'deeplab', 'dilation'])
def test_training_step_all_losses(kind):
    model = _build(tiny_model_cfg(kind))
    inputs, samples = pair_batch(b=1 if kind != 'dilation' else 2)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    losses, opt = _train_step(model, inputs, samples)
    expected = {'decode.loss_ce', *EFC_LOSSES}
    if kind != 'dilation':
        expected.add('aux.loss_ce')
    assert expected <= set(losses), sorted(losses)
    for k, v in losses.items():
        assert torch.isfinite(v).all(), k
    # gradients reach the flow decoder, the shared encoder and the tail
    stem = 'backbone.stem.0.weight' if kind != 'dilation' else \
        'backbone.conv1.0.weight'
    for name in (stem, 'flow_decoder.predictors.3.conv.weight',
                 'flow_decoder.occ_heads.3.conv2.weight'):
        g = dict(model.named_parameters())[name].grad
        assert g is not None and g.abs().sum() > 0, name
    opt.step()
    changed = [k for k, v in model.named_parameters()
               if not torch.equal(v, before[k])]
    assert any(k.startswith('flow_decoder.') for k in changed)
    assert any(k.startswith('decode_head.') for k in changed)


def test_single_frame_batch_is_plain_seg_training():
    model = _build(tiny_model_cfg('psp'))
    inputs, samples = pair_batch(b=2, labelled=(True, True))
    frames = inputs[:, 0]
    losses = model.loss(frames, [s.frame1 for s in samples])
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg', 'aux.loss_ce',
                           'aux.acc_seg'}


def test_unlabelled_pair_gives_zero_ce_and_flow_losses():
    """Two unlabelled frames: CE ignores everything (0), no accuracy is
    logged (mmseg would log 100), flow losses run."""
    model = _build(tiny_model_cfg('psp'))
    inputs, samples = pair_batch(b=1, labelled=(False, False))
    losses = model.loss(inputs, samples)
    assert losses['decode.loss_ce'].item() == 0
    assert not [k for k in losses if 'acc_seg' in k], sorted(losses)
    for s in samples:  # without the pair metainfo: read from the label maps
        s.set_metainfo(dict(labelled=None))
    assert not [k for k in model.loss(inputs, samples) if 'acc_seg' in k]
    _, labelled = pair_batch(b=1, labelled=(True, False))
    assert 'decode.acc_seg' in model.loss(inputs, labelled)
    assert all(torch.isfinite(losses[k]) for k in EFC_LOSSES)


def _flow_only_cfg(**photometric):
    """Tiny PSP config that trains the flow branch with L_pm and L_sm only:
    no L_seg, L_cons or L_occ (so L_pm cannot weight by O_est);
    ``photometric``: further PhotometricLoss arguments."""
    cfg = tiny_model_cfg('psp')
    cfg['decode_head']['loss_decode']['loss_weight'] = 0.0
    cfg['auxiliary_head']['loss_decode']['loss_weight'] = 0.0
    cfg['losses'] = None
    cfg['flow_decoder']['losses'].update(
        occlusion=None,
        photometric=dict(type='PhotometricLoss', occlusion_weighting=False,
                         seg_error=False, **photometric))
    return cfg


def test_absent_loss_modules_are_absent_losses():
    """A row of the ablation tables is loss modules present or absent."""
    model = _build(_flow_only_cfg())
    inputs, samples = pair_batch(b=1)
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_pm', 'loss_sm'}


def test_impossible_combinations_fail_at_build_naming_keys():
    cfg = tiny_model_cfg('psp')
    cfg['flow_decoder']['losses']['occlusion'] = None  # O_est in L_pm, untrained
    with pytest.raises(ValueError, match='occlusion_weighting.*OcclusionLoss'):
        MODELS.build(cfg)
    cfg = tiny_model_cfg('psp')
    cfg['flow_decoder']['losses']['occlusion'] = None
    cfg['flow_decoder']['losses']['photometric']['occlusion_weighting'] = False
    with pytest.raises(ValueError, match='occlusion_mask.*OcclusionLoss'):
        MODELS.build(cfg)  # L_cons masked by an untrained O_est
    cfg = tiny_model_cfg('psp')
    cfg['flow_decoder'] = None
    with pytest.raises(ValueError, match='FeatureConsistencyLoss.*flow'):
        MODELS.build(cfg)
    cfg = tiny_model_cfg('psp')
    cfg['flow_decoder']['frozen'] = True
    with pytest.raises(ValueError, match='frozen=True.*loss_'):
        MODELS.build(cfg)
    cfg = tiny_model_cfg('psp')
    cfg['flow_decoder'].update(frozen=True, losses=None)
    cfg['losses']['consistency']['occlusion_mask'] = False
    with pytest.raises(ValueError, match='flow_encoder'):
        MODELS.build(cfg)
    cfg = tiny_model_cfg('psp')
    cfg['flow_decoder']['losses']['smoothness']['level_weights'] = [1, 1]
    with pytest.raises(ValueError, match='level_weights.*4 levels'):
        MODELS.build(cfg)


def test_loss_weight_schedule_follows_the_runner_iteration():
    """weight_schedule: 0 before ``begin`` (the loss is absent), a linear
    ramp to ``loss_weight`` at ``end``; the iteration comes from mmengine's
    MessageHub (what the runner publishes), checked by hand."""
    from mmengine.logging import MessageHub
    cfg = tiny_model_cfg('psp')
    # features (not the seg output, whose dropout would differ per call)
    cfg['losses']['consistency'].update(weight_schedule=dict(begin=10, end=20),
                                   level=-1)
    model = _build(cfg)
    inputs, samples = pair_batch(b=1)
    hub = MessageHub.get_instance('test_schedule')
    values = {}
    for it in (0, 9, 15, 20, 30):
        hub.update_info('iter', it)
        with torch.no_grad():
            losses = model.loss(inputs, samples)
        values[it] = losses.get('loss_cons')
    assert values[0] is None and values[9] is None
    lc = model.losses[0]
    lc.set_iteration(15)
    assert lc.current_weight == pytest.approx(5.0)  # 10 * (15-10)/(20-10)
    assert values[20].item() == pytest.approx(2 * values[15].item(), rel=1e-4)
    assert values[30].item() == pytest.approx(values[20].item(), rel=1e-4)


def test_nan_loss_names_loss_scale_and_direction():
    """One finite check per step; only on failure the term is named."""
    cfg = tiny_model_cfg('psp')
    cfg['decode_head']['loss_decode']['loss_weight'] = 0.0
    cfg['auxiliary_head']['loss_decode']['loss_weight'] = 0.0
    cfg['flow_decoder']['losses']['photometric']['seg_error'] = False
    model = _build(cfg)
    inputs, samples = pair_batch(b=1)
    inputs[0, 1, :, :4, :4] = float('nan')
    with pytest.raises(FloatingPointError,
                       match=r'loss_\w+ is NaN at scale \d, direction (fw|bw)'):
        model.loss(inputs, samples)
    cfg = tiny_model_cfg('psp')
    cfg['flow_decoder'] = None
    cfg['losses'] = None
    model = _build(cfg)
    with pytest.raises(FloatingPointError, match='decode.loss_ce is NaN'):
        model.loss(inputs, samples)


# ---------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    model = _build(tiny_model_cfg('psp'))
    inputs, samples = pair_batch(b=1)
    with pytest.raises(ValueError, match='3 channels'):
        model.loss(inputs[:, :, :1], samples)
    with pytest.raises(ValueError, match='differ in shape'):
        model.predict_flow(torch.randn(1, 3, 64, 64), torch.randn(1, 3, 32, 64))
    with pytest.raises(ValueError, match=r'\(B, 2, 3, H, W\)'):
        model.loss(torch.randn(1, 3, 3, 64, 64), samples)
    cfg = tiny_model_cfg('psp')
    cfg['decode_head']['type'] = 'NoSuchHead'
    with pytest.raises(KeyError, match='NoSuchHead'):
        MODELS.build(cfg)
    cfg = tiny_model_cfg('psp')
    cfg['shared_stages'] = 'layer9'
    with pytest.raises(ValueError, match='layer9'):
        MODELS.build(cfg)


# ---------------------------------------------------------------- configs
TOP_CONFIGS = ['psp_efc_cityscapes.py', 'deeplabv3plus_efc_cityscapes.py',
               'dilation10_efc_cityscapes.py', 'dilation8_efc_camvid.py']


_DATASET_BASES = ('cityscapes_sequence.py', 'camvid_video.py')


def _model_of(path, tmp_path):
    """The config's merged model dict (and train_dataloader). While the
    dataset bases (another engineer's) are missing, the configs tree is
    parsed from a copy with stub dataset bases, so the model part and the
    override syntax are still checked."""
    import shutil
    missing = [n for n in _DATASET_BASES if not osp.exists(
        osp.join(REPO, 'configs', '_base_', 'datasets', n))]
    if missing:
        root = tmp_path / 'configs'
        shutil.copytree(osp.join(REPO, 'configs'), root)
        (root / '_base_' / 'datasets').mkdir(exist_ok=True)
        for n in missing:
            (root / '_base_' / 'datasets' / n).write_text(
                "train_dataloader = dict(batch_size=1, dataset=dict("
                "type='StubPairDataset'))\n")
        path = str(root / osp.relpath(path, osp.join(REPO, 'configs')))
    return Config.fromfile(path)


@pytest.mark.parametrize('name', [
    'psp_efc_r50-d8.py', 'deeplabv3plus_efc_r50-d8.py',
    'dilation_efc_vgg16.py'])
def test_base_model_configs_build_full_size(name):
    """The model bases alone (no dataset needed) build at full size."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'models', name))
    assert cfg.model.type == 'EFCSegmentor'
    assert cfg.model.data_preprocessor.type == 'PairSegDataPreProcessor'
    model = MODELS.build(_shrink_for_build(cfg.model.to_dict()))
    assert model.with_flow


@pytest.mark.parametrize('name', TOP_CONFIGS + sorted(
    osp.basename(p) for p in glob.glob(osp.join(REPO, 'configs', 'ablation',
                                                '*.py'))))
def test_configs_parse_and_build(name, tmp_path):
    path = osp.join(REPO, 'configs', name)
    if not osp.exists(path):
        path = osp.join(REPO, 'configs', 'ablation', name)
    cfg = _model_of(path, tmp_path)
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_imports.imports == ['efc_mm']
    model = MODELS.build(ConfigDict(_tiny_like(cfg.model.to_dict())))
    assert type(model).__name__ == 'EFCSegmentor'


def _row_of(model, cfg) -> dict:
    """What a built model + config do, in the terms of the paper's tables."""
    dec = model.flow_decoder if model.with_flow else None
    by_type = {type(m).__name__: m for m in model.efc_losses}
    pm, lc = by_type.get('PhotometricLoss'), by_type.get(
        'FeatureConsistencyLoss')
    ds = cfg.train_dataloader.dataset
    return dict(
        flow=model.with_flow,
        seg=model._trains_seg,
        frozen=bool(dec is not None and dec.frozen),
        flow_loss=bool(dec is not None and len(dec.losses)),
        occ='OcclusionLoss' in by_type,
        oe=bool(pm is not None and pm.seg_error),
        tc=lc is not None,
        tc_trains_flow=bool(lc is not None and 'flow' in lc.grad_to),
        om=bool(lc is not None and lc.occlusion_mask),
        pairs=ds.get('pairs_per_snippet'),
        ud=bool(ds.get('with_unlabelled', False)))


def _paper_row(name: str) -> dict:
    """What row ``name`` must do, read from the paper's vocabulary in the
    name itself (Tables 1-2: TCC = temporal consistency through a flow, OM
    = occlusion mask, UL = unsupervised flow losses, OE = O_error from the
    segmentation, TC = L_cons also training the flow, UD = unlabelled
    snippets), not from a second list of rows."""
    if name == 'baseline':
        return dict(flow=False, seg=True, tc=False, occ=False, pairs=1,
                    ud=False)
    if name.startswith('TCC') or name == 'UD':
        return dict(flow=True, seg=True, tc=True, frozen=name == 'TCC_fix',
                    om=name.endswith('OM') or name == 'UD',
                    pairs=1 if ('single' in name or 'fix' in name) else 10,
                    ud=name == 'UD', tc_trains_flow=False)
    if name.startswith('UL'):
        return dict(flow=True, flow_loss=True, seg='OE' in name or
                    'TC' in name, oe='OE' in name, tc='TC' in name,
                    tc_trains_flow='TC' in name, occ=False, om=False)
    assert name == 'full', name
    return dict(flow=True, seg=True, flow_loss=True, occ=True, oe=True,
                tc=True, om=True)


@pytest.mark.parametrize('row', [
    'baseline', 'TCC_fix', 'TCC_single', 'TCC_single+OM', 'TCC_multi+OM',
    'UD', 'UL', 'UL+OE', 'UL+TC', 'UL+OE+TC', 'full'])
def test_paper_rows_do_what_the_tables_say(row, tmp_path):
    """Every paper row of efc_mm.ablation, composed onto the synthetic
    protocol, builds and does what its name means in Tables 1-2."""
    from efc_mm.ablation import compose, row_names
    assert row in row_names()
    cfg = compose(osp.join(REPO, 'configs', 'synthetic',
                           'psp_efc_tiny_synthetic.py'), row)
    model = MODELS.build(ConfigDict(_tiny_like(cfg.model.to_dict())))
    got = _row_of(model, cfg)
    want = _paper_row(row)
    assert {k: got[k] for k in want} == want, row


def test_thin_ablation_configs_are_their_row_on_the_protocol():
    """configs/ablation/*.py == efc_mm.ablation.compose(protocol, row): one
    definition per row, the files only apply it."""
    from efc_mm.ablation import compose, load_row
    for path in sorted(glob.glob(osp.join(REPO, 'configs', 'ablation',
                                          't*_*.py'))):
        cfg = Config.fromfile(path)
        if '_row_' not in cfg:
            continue  # t2_full.py: the KITTI protocol itself
        proto = [b for b in Config._get_base_files(path)
                 if '_base_/ablation' not in b][0]
        ref = compose(osp.join(osp.dirname(path), proto), cfg._row_.name)
        assert cfg.model.to_dict() == ref.model.to_dict(), path
        assert cfg.train_dataloader.to_dict() == \
            ref.train_dataloader.to_dict(), path
        assert load_row(cfg._row_.name)['name'] == cfg._row_.name


def _tiny_like(cfg):
    """A test-size model of the same family carrying the config's EFC parts
    (loss modules and their arguments, frozen flow branch, seg loss weights,
    shared_stages); the full-size architectures are built by the base-config
    test."""
    kind = ('dilation' if cfg['backbone']['type'] == 'DilatedVGG16' else
            'deeplab' if 'ASPP' in cfg['decode_head']['type'] else 'psp')
    tiny = tiny_model_cfg(kind)
    for key in ('losses', 'shared_stages'):
        if key in cfg:
            tiny[key] = cfg[key]
    for head in ('decode_head', 'auxiliary_head'):
        if head in cfg and head in tiny:
            tiny[head]['loss_decode'] = cfg[head]['loss_decode']
    if cfg.get('flow_decoder') is None:
        tiny['flow_decoder'] = None
    else:
        for key, value in cfg['flow_decoder'].items():
            if key in ('losses', 'frozen', 'detach_occ_features'):
                tiny['flow_decoder'][key] = value
    if cfg.get('flow_encoder') is not None:
        tiny['flow_encoder'] = dict(init_cfg=None)
    return tiny


def _shrink_for_build(cfg):
    """Keep the config's structure but build with BN and no weights."""
    cfg = copy.deepcopy(cfg)
    cfg['pretrained'] = None
    cfg['backbone'].pop('init_cfg', None)
    for key in ('decode_head', 'auxiliary_head', 'backbone'):
        if key in cfg and isinstance(cfg[key], dict) and \
                cfg[key].get('norm_cfg'):
            cfg[key]['norm_cfg'] = dict(type='BN', requires_grad=True)
    return cfg


# ---------------------------------------------------------------- overfit
def _load_rubberwhale(w, h):
    """frame10/11 + flow10.flo of Middlebury RubberWhale, area-downscaled to
    w x h, flow vectors scaled by the same factors; valid mask from the
    .flo's unknown-flow marker (1e9)."""
    import mmcv
    import numpy as np

    from efc_mm.fileio import read_flo
    from conftest import shared_path
    root = shared_path('samples', 'middlebury_rubberwhale')

    def img(name):
        im = mmcv.imresize(mmcv.imread(osp.join(root, name)), (w, h),
                           interpolation='area')[..., ::-1].copy()
        return torch.from_numpy(im).permute(2, 0, 1).float()

    flow = read_flo(osp.join(root, 'flow10.flo'))
    valid = (np.abs(flow) < 1e9).all(-1)
    flow = np.where(valid[..., None], flow, 0)
    sx, sy = w / flow.shape[1], h / flow.shape[0]
    gt = torch.from_numpy(np.stack([
        mmcv.imresize(flow[..., 0], (w, h), interpolation='area') * sx,
        mmcv.imresize(flow[..., 1], (w, h), interpolation='area') * sy]))
    vmask = torch.from_numpy(mmcv.imresize(
        valid.astype(np.float32), (w, h), interpolation='nearest')) > 0.5
    return img('frame10.png'), img('frame11.png'), gt, vmask


def _synthetic_pair(h=96, w=160, seed=3, frame=5):
    """A pair the in-repo renderer makes (exact forward flow): frames
    ``frame`` and ``frame + 1`` of a snippet whose camera drives at 0.2 m per
    frame (mean motion about 2 px), RGB float (0..255)."""
    from efc_synthetic import render_snippet
    snip = render_snippet(seed, height=h, width=w, num_frames=frame + 2,
                          camera=dict(speed=0.2))
    imgs = torch.from_numpy(snip['images'][frame:frame + 2][..., ::-1].copy())
    imgs = imgs.permute(0, 3, 1, 2).float()
    gt = torch.from_numpy(snip['flow_fw'][frame]).permute(2, 0, 1)
    return imgs[0], imgs[1], gt


@pytest.mark.slow
def test_overfit_flow_branch_on_synthetic_pair():
    """Unsupervised flow (L_pm + L_sm of the default loss settings) on one
    pair of the synthetic world: the photometric loss falls and the EPE
    against the renderer's exact flow drops well below the zero-flow EPE.
    No ../shared needed. Adam 1e-3, 250 steps at 96x160 (~20 s, 1 core);
    measured: EPE 1.99 px (zero flow) -> 1.00 px."""
    i1, i2, gt = _synthetic_pair()
    from efc_mm.testing import pair_batch
    cfg = _flow_only_cfg(resolution='input')
    cfg['flow_decoder']['losses']['smoothness'] = dict(
        type='SmoothnessLoss', resolution='input', order=2,
        edge_constant=150.0)
    torch.manual_seed(0)
    model = MODELS.build(ConfigDict(cfg))
    dp = model.data_preprocessor
    x = torch.stack([(i1 - dp.mean) / dp.std, (i2 - dp.mean) / dp.std])[None]
    _, samples = pair_batch(b=1, h=96, w=160, labelled=(False, False))

    def epe():
        model.eval()
        with torch.no_grad():
            f = model.predict_flow(x[:, 0], x[:, 1])['flow_fw'][0]
        model.train()
        return (f - gt).norm(dim=0).mean().item()

    zero_epe = gt.norm(dim=0).mean().item()
    assert zero_epe > 1.0, zero_epe  # there is motion to find
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    pm = []
    for _ in range(250):
        losses = model.loss(x, samples)
        assert set(losses) == {'loss_pm', 'loss_sm'}
        opt.zero_grad()
        (losses['loss_pm'] + losses['loss_sm']).backward()
        opt.step()
        pm.append(losses['loss_pm'].item())
    final_epe = epe()
    assert sum(pm[-10:]) / 10 < 0.7 * pm[0], (pm[0], pm[-10:])
    assert final_epe < 0.6 * zero_epe, (final_epe, zero_epe)


def test_tcc_fix_loads_and_freezes_flow_branch(tmp_path):
    """TCC_fix: a frozen copy of the encoder + the flow decoder loaded from a
    checkpoint by ``PretrainedPart``; only L_seg and L_cons train; the flow
    weights do not move. A checkpoint without the part is a clear error."""
    ul = MODELS.build(ConfigDict(tiny_model_cfg('psp')))
    ckpt = tmp_path / 'flow.pth'
    torch.save(dict(state_dict=ul.state_dict()), ckpt)

    def tcc_fix_cfg(path):
        cfg = tiny_model_cfg('psp')
        cfg['flow_encoder'] = dict(init_cfg=dict(
            type='PretrainedPart', checkpoint=str(path), prefix='backbone.'))
        cfg['flow_decoder'].update(
            frozen=True, losses=None, init_cfg=dict(
                type='PretrainedPart', checkpoint=str(path),
                prefix='flow_decoder.'))
        cfg['losses']['consistency']['occlusion_mask'] = False
        return cfg

    torch.manual_seed(1)
    model = MODELS.build(ConfigDict(tcc_fix_cfg(ckpt)))
    model.init_weights()
    ref = ul.state_dict()
    for k, v in model.flow_decoder.state_dict().items():
        assert torch.equal(v, ref['flow_decoder.' + k])
    for k, v in model.flow_encoder.state_dict().items():
        assert torch.equal(v, ref['backbone.' + k])
    inputs, samples = pair_batch(b=1)
    before = {k: v.clone() for k, v in model.flow_decoder.state_dict().items()}
    losses, opt = _train_step(model, inputs, samples)
    assert set(k for k in losses if 'loss' in k) == {
        'decode.loss_ce', 'aux.loss_ce', 'loss_cons'}
    opt.step()
    assert not model.flow_decoder.training
    for k, v in model.flow_decoder.state_dict().items():
        assert torch.equal(v, before[k])
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0
    # a checkpoint that lacks the flow branch: the error names the prefix
    seg_only = tmp_path / 'seg.pth'
    torch.save(dict(state_dict={k: v for k, v in ref.items()
                                if not k.startswith('flow_decoder.')}),
               seg_only)
    model = MODELS.build(ConfigDict(tcc_fix_cfg(seg_only)))
    with pytest.raises(KeyError, match=r"seg.pth has no 'flow_decoder.'"):
        model.init_weights()


def test_joint_training_stable_with_paper_sgd():
    """All EFC losses, SGD lr 0.01 momentum 0.9 (the paper's), 25 steps on
    a real pair: stays finite and the flow does not blow up (a stride-scaled
    flow predictor diverged here)."""
    i1, i2, _, _ = _load_rubberwhale(128, 96)
    model = _build(tiny_model_cfg('psp', num_classes=19))
    dp = model.data_preprocessor
    x = torch.stack([(i1 - dp.mean) / dp.std, (i2 - dp.mean) / dp.std])[None]
    _, samples = pair_batch(b=1, h=96, w=128, num_classes=19)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    first = None
    for _ in range(25):
        losses = model.loss(x, samples)  # raises FloatingPointError on NaN
        first = first or losses['loss_pm'].item()
        opt.zero_grad()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        opt.step()
    assert losses['loss_pm'].item() < 3 * first
    with torch.no_grad():
        flow = model.predict_flow(x[:, 0], x[:, 1])['flow_fw']
    assert flow.abs().max() < 20


def test_train_step_through_pair_preprocessor():
    """mmengine's train_step path: uint8 BGR pairs of different sizes ->
    PairSegDataPreProcessor (pads both frames and their labels) -> loss."""
    model = _build(tiny_model_cfg('psp'))
    model.data_preprocessor.size_divisor = 32
    _, samples = pair_batch(b=2, h=64, w=64)
    _, small = pair_batch(b=1, h=48, w=60)
    samples[1] = small[0]
    inputs = [torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8),
              torch.randint(0, 256, (2, 3, 48, 60), dtype=torch.uint8)]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                   training=True)
    assert data['inputs'].shape == (2, 2, 3, 64, 64)
    losses = model(**data, mode='loss')
    assert {'decode.loss_ce', *EFC_LOSSES} <= set(losses)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    from mmengine.optim import OptimWrapper
    log = model.train_step(dict(inputs=inputs, data_samples=samples),
                           OptimWrapper(opt))
    assert all(torch.isfinite(v) for v in log.values())


def test_own_flow_encoder_separates_the_gradients():
    """``flow_encoder=dict()`` (trainable, not frozen): the flow losses train
    the flow branch's own copy of the shared stages and never reach the
    segmentor's encoder; the segmentation losses never reach the copy."""
    # flow losses only: gradient in flow_encoder, none in the backbone
    cfg = _flow_only_cfg()
    cfg['flow_encoder'] = dict()
    model = _build(cfg)
    assert model.flow_encoder is not None
    assert not {id(p) for p in model.flow_encoder.parameters()} & \
        {id(p) for p in model.backbone.parameters()}
    inputs, samples = pair_batch(b=1)
    _train_step(model, inputs, samples)
    fe = [p.grad for p in model.flow_encoder.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in fe)
    assert all(p.grad is None or p.grad.abs().sum() == 0
               for p in model.backbone.parameters())
    # segmentation losses only (no flow loss, no L_cons): the reverse
    cfg = tiny_model_cfg('psp')
    cfg['flow_encoder'] = dict()
    cfg['losses'] = None
    cfg['flow_decoder'].update(losses=None)
    model = _build(cfg)
    inputs, samples = pair_batch(b=1, labelled=(True, True))
    _train_step(model, inputs, samples)
    assert all(p.grad is None or p.grad.abs().sum() == 0
               for p in model.flow_encoder.parameters())
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0
