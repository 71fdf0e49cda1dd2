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


def _base_depth(path: str) -> int:
    """Levels of ``_base_`` above ``path`` (``mmseg::`` bases count one)."""
    if path.startswith('mmseg::'):
        return 1
    bases = Config._get_base_files(path)
    if not bases:
        return 0
    return 1 + max(_base_depth(b if b.startswith('mmseg::') else
                               osp.join(osp.dirname(path), b)) for b in bases)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_base_chains_at_most_three_deep(path):
    assert _base_depth(path) <= 3, path


def _occurrences(obj, key, found):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                found.append(v)
            _occurrences(v, key, found)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _occurrences(v, key, found)
    return found


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_dump_has_no_top_level_key_contradicting_the_model(path):
    """A variable that exists to be copied into the model (norm_cfg,
    data_preprocessor, a loss dict) may stay at the top level of the dumped
    config only with the value the model uses (issue: the quick start dumped
    a top-level L_cons schedule of 3000-5000 while its model used 120-200)."""
    cfg = Config.fromfile(path).to_dict()
    model = cfg.get('model') or {}
    for key, value in cfg.items():
        if key in ('model', '_row_', 'train_cfg', 'test_cfg', 'val_cfg') \
                or not isinstance(value, dict):
            continue
        used = _occurrences(model, key, [])
        bad = [u for u in used if _conflict(value, u)]
        assert not bad, (path, key, _conflict(value, bad[0]))


def _conflict(top, used):
    """The first ``(key, top value, model value)`` where the top-level dict
    says something else than the model (keys the model adds are fine)."""
    if isinstance(top, dict) and isinstance(used, dict):
        for k, v in top.items():
            if k in used:
                c = _conflict(v, used[k])
                if c:
                    return c if isinstance(c, tuple) else (k, v, used[k])
        return None
    return None if top == used else (None, top, used)
