"""Every shipped config parses and names only registered modules."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

import efc_mm  # noqa: F401
from efc_mm.utils import check_config_types

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)


def test_configs_found():
    names = {osp.relpath(p, osp.join(REPO, 'configs')) for p in CONFIGS}
    for expected in ('psp_efc_cityscapes.py', 'deeplabv3plus_efc_cityscapes.py',
                     'dilation10_efc_cityscapes.py', 'dilation8_efc_camvid.py',
                     'quickstart/psp_efc_tiny_synthetic_cpu.py',
                     'quickstart/psp_baseline_tiny_synthetic_cpu.py'):
        assert expected in names


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_types_registered(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmseg'
    check_config_types(cfg, path)


def test_check_names_file_and_field():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'psp_efc_cityscapes.py'))
    cfg.model.flow_decoder.type = 'EFCFlowDecodr'
    with pytest.raises(KeyError) as err:
        check_config_types(cfg, 'psp_efc_cityscapes.py')
    msg = str(err.value)
    assert 'psp_efc_cityscapes.py' in msg
    assert "model.flow_decoder.type='EFCFlowDecodr'" in msg
    assert 'EFCFlowDecoder' in msg  # the close match is suggested
