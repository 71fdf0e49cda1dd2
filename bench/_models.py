"""Model builders shared by the model benchmarks (full-size PSP-R50 from
configs/_base_/models/psp_efc_r50-d8.py, BN instead of SyncBN, random
weights)."""
import copy
import os.path as osp
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)  # efc_mm from this checkout

import efc_mm  # noqa: E402,F401
from mmengine.config import Config, ConfigDict  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

init_default_scope('mmseg')
BN = dict(type='BN', requires_grad=True)


def psp_cfg(tiny: bool = False) -> dict:
    """EFC PSP-R50-D8 model dict (tiny: the test-size ResNet-18/16ch)."""
    if tiny:
        from efc_mm.testing import tiny_model_cfg
        return tiny_model_cfg('psp', num_classes=19)
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'models',
                                   'psp_efc_r50-d8.py')).model.to_dict()
    cfg['pretrained'] = None
    for key in ('backbone', 'decode_head', 'auxiliary_head'):
        cfg[key]['norm_cfg'] = BN
    return cfg


def plain_of(cfg: dict) -> dict:
    from efc_mm.testing import plain_cfg
    return plain_cfg(cfg)


def build(cfg: dict):
    torch.manual_seed(0)
    return MODELS.build(ConfigDict(copy.deepcopy(cfg)))
