"""Pretrained weights offline / missing: the error names the checkpoint, its
URL and the fix; ``model.pretrained=None`` switches weights off for every
config family (efc_mm.utils.pretrained, tools/train.py)."""
import copy
import os.path as osp
from urllib.error import URLError

import mmengine.runner.checkpoint as mm_ckpt
import pytest
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

import efc_mm  # noqa: F401
from efc_mm.testing import tiny_model_cfg
from efc_mm.utils.pretrained import (PretrainedWeightsError,
                                     explain_pretrained_errors,
                                     pretrained_checkpoints)

from conftest import load_script  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

RESNET_URL = ('https://download.openmmlab.com/pretrain/third_party/'
              'resnet50_v1c-2cccc1ad.pth')  # mmengine/hub/openmmlab.json


def _build(cfg):
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    return MODELS.build(ConfigDict(copy.deepcopy(cfg)))


@pytest.fixture
def offline(monkeypatch):
    """No network: mmengine's download (cache included) raises URLError."""
    calls = []

    def no_network(url, *args, **kwargs):
        calls.append(url)
        raise URLError('[Errno -3] Temporary failure in name resolution')

    monkeypatch.setattr(mm_ckpt, 'load_url', no_network)
    return calls


def _tiny_dilation_cfg(user_config):
    """The user config's model dict with VGG widths shrunk (the pretrained
    logic, which is what is tested here, untouched)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', user_config)).model
    cfg = cfg.to_dict()
    tiny = tiny_model_cfg('dilation')
    for key in ('backbone', 'decode_head', 'flow_decoder'):
        cfg[key] = tiny[key]
    cfg['backbone'].pop('init_cfg', None)  # as in the shipped base
    return cfg


def test_resnet_offline_error_names_url_and_fix(offline):
    cfg = tiny_model_cfg('psp')
    cfg['pretrained'] = 'open-mmlab://resnet50_v1c'
    model = _build(cfg)
    with pytest.raises(PretrainedWeightsError) as err:
        with explain_pretrained_errors(cfg):
            model.init_weights()
    msg = str(err.value)
    assert offline == [RESNET_URL]  # the download was attempted
    assert "'open-mmlab://resnet50_v1c'" in msg
    assert RESNET_URL in msg
    assert '--cfg-options model.pretrained=None' in msg
    assert 'model.pretrained=/path/to/resnet50_v1c-2cccc1ad.pth' in msg
    assert 'URLError' in msg and 'name resolution' in msg
    assert isinstance(err.value.__cause__, URLError)


def test_missing_vgg_file_points_at_readme_recipe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no pretrain/ folder here
    cfg = _tiny_dilation_cfg('dilation10_efc_cityscapes.py')
    assert cfg['pretrained'] == 'pretrain/vgg16_dilation_frontend.pth'
    model = _build(cfg)
    with pytest.raises(PretrainedWeightsError) as err:
        with explain_pretrained_errors(cfg):
            model.init_weights()
    msg = str(err.value)
    assert "'pretrain/vgg16_dilation_frontend.pth'" in msg
    assert 'set by model.pretrained' in msg
    assert 'VGG-16 front-end weights' in msg and 'docs/usage.md' in msg
    assert '--cfg-options model.pretrained=None' in msg
    assert isinstance(err.value.__cause__, FileNotFoundError)


@pytest.mark.parametrize('user_config', ['dilation10_efc_cityscapes.py',
                                         'dilation8_efc_camvid.py'])
def test_pretrained_none_switches_dilation_weights_off(user_config, tmp_path,
                                                       monkeypatch):
    """As for ResNet: ``--cfg-options model.pretrained=None``, no file."""
    monkeypatch.chdir(tmp_path)

    def no_load(*args, **kwargs):
        raise AssertionError('a checkpoint was loaded')

    monkeypatch.setattr(mm_ckpt.CheckpointLoader, 'load_checkpoint', no_load)
    cfg = Config(dict(model=_tiny_dilation_cfg(user_config)))
    cfg.merge_from_dict({'model.pretrained': None})  # what --cfg-options does
    model = _build(cfg.model.to_dict())
    assert model.backbone.init_cfg is None
    model.init_weights()


def test_full_dilation_config_with_pretrained_none_builds():
    """The shipped Dilation10 config (full size) with pretrained=None."""
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'dilation10_efc_cityscapes.py'))
    cfg.merge_from_dict({'model.pretrained': None})
    model = _build(cfg.model.to_dict())
    assert model.backbone.init_cfg is None
    assert model.backbone.fc[0].weight.shape == (4096, 512, 7, 7)


def test_dilated_vgg_pretrained_argument():
    from efc_mm.models.backbones import DilatedVGG16
    small = dict(widths=(4, 4, 4, 4, 4), fc_channels=4)
    vgg = DilatedVGG16(pretrained='x.pth', **small)
    assert vgg.init_cfg == dict(type='Pretrained', checkpoint='x.pth')
    with pytest.raises(ValueError, match='either pretrained or init_cfg'):
        DilatedVGG16(pretrained='x.pth', init_cfg=dict(type='Pretrained',
                                                        checkpoint='y.pth'),
                     **small)
    with pytest.raises(TypeError, match=r'pretrained must be a checkpoint path \(str\) or None'):
        DilatedVGG16(pretrained=3, **small)


def test_other_errors_pass_unchanged():
    with pytest.raises(FileNotFoundError) as err:
        with explain_pretrained_errors({}):
            open('/nonexistent/efc_mm/file')
    assert type(err.value) is FileNotFoundError
    with pytest.raises(ValueError):
        with explain_pretrained_errors({}):
            raise ValueError('x')


def test_pretrained_checkpoints_lists_every_reference():
    cfg = dict(pretrained='open-mmlab://resnet50_v1c',
               backbone=dict(init_cfg=None),
               flow_decoder=dict(init_cfg=dict(type='PretrainedPart',
                                               checkpoint='a.pth')))
    assert pretrained_checkpoints(cfg) == [
        ('model.pretrained', 'open-mmlab://resnet50_v1c'),
        ('model.flow_decoder.init_cfg.checkpoint', 'a.pth')]


@pytest.mark.slow
def test_train_tool_explains_offline_failure(offline, tmp_path, monkeypatch):
    """tools/train.py on a ResNet config offline: the clear error, raised
    when the weights are loaded (before any iteration)."""
    import efc_synthetic
    root = str(tmp_path / 'world')
    efc_synthetic.generate_synthetic_world(
        root, num_train_snippets=1, num_val_snippets=1, height=64,
        width=128, seed=5, workers=1)
    monkeypatch.setenv('EFC_DATA_ROOT', root)
    train = load_script('tools', 'train.py')
    with pytest.raises(PretrainedWeightsError) as err:
        train.main([
            osp.join(REPO, 'configs', 'debug', 'psp_efc_cityscapes_debug.py'),
            '--work-dir', str(tmp_path / 'wd'), '--cfg-options',
            'model.pretrained=open-mmlab://resnet50_v1c'])
    msg = str(err.value)
    assert 'open-mmlab://resnet50_v1c' in msg and RESNET_URL in msg
    assert 'model.pretrained=None' in msg
    assert offline == [RESNET_URL]


def test_missing_part_checkpoint_keeps_its_own_explanation(tmp_path,
                                                           monkeypatch):
    """A flow-branch file (as TCC_fix loads): the key is named, the
    initialiser's own message kept, no "train from scratch" advice."""
    monkeypatch.chdir(tmp_path)
    cfg = tiny_model_cfg('psp')
    cfg['flow_decoder']['init_cfg'] = dict(
        type='Pretrained', checkpoint='work_dirs/ul/iter_1.pth',
        prefix='flow_decoder.')
    model = _build(cfg)
    with pytest.raises(PretrainedWeightsError) as err:
        with explain_pretrained_errors(cfg):
            model.init_weights()
    msg = str(err.value)
    assert 'set by model.flow_decoder.init_cfg.checkpoint' in msg
    assert 'can not be found' in msg  # mmengine's own message
    assert 'model.flow_decoder.init_cfg=None' in msg
    assert 'train from scratch' not in msg and 'VGG' not in msg
