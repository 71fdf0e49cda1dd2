"""Tiny EFC model configs and pair batches for tests and benchmarks.

The configs are the real model bases (``configs/_base_/models``) shrunk to
test size, so a test or benchmark exercises the architecture the user
configs build, only narrower. The bases are found where
:func:`efc_mm.ablation.config_root` finds the configs: the installed
package's ``efc_mm/.mim/configs`` (a regular install), else the source
checkout's ``configs/``.
"""
import copy
import os.path as osp

import torch

__all__ = ['BN', 'TINY_FLOW', 'model_bases_dir', 'tiny_model_cfg',
           'plain_cfg', 'pair_batch']

BN = dict(type='BN', requires_grad=True)
#: flow-decoder widths of the tiny models
TINY_FLOW = dict(
    corr_channels=16, max_displacement=3, dilation_patch=1, redir_channels=8,
    fuse_channels=16, contract_channels=(16, 16), skip_channels=8,
    deconv_channels=(16, 8, 8), occ_mid_channels=8)
#: kind -> model base file
_BASES = dict(psp='psp_efc_r50-d8.py', deeplab='deeplabv3plus_efc_r50-d8.py',
              dilation='dilation_efc_vgg16.py')


def model_bases_dir() -> str:
    """``configs/_base_/models`` of the installed package or checkout."""
    from ..ablation import config_root
    return osp.join(config_root(), '_base_', 'models')


def tiny_model_cfg(kind: str = 'psp', num_classes: int = 5) -> dict:
    """Model dict of a base config shrunk to test size (ResNet-18 with 16
    base channels / VGG with 1/16 widths), BN instead of SyncBN, no
    pretrained weights, every loss active from the first step.

    Args:
        kind (str): ``'psp'``, ``'deeplab'`` or ``'dilation'``.
        num_classes (int): classes of the heads.
    """
    from mmengine.config import Config
    cfg = copy.deepcopy(Config.fromfile(
        osp.join(model_bases_dir(), _BASES[kind])).model.to_dict())
    cfg['pretrained'] = None
    cons = (cfg.get('losses') or {}).get('consistency')
    if cons:  # every loss active from the first step
        cons['weight_schedule'] = None
    if kind in ('psp', 'deeplab'):
        cfg['backbone'].update(depth=18, stem_channels=16, base_channels=16,
                               norm_cfg=BN)
        head = cfg['decode_head']
        head.update(in_channels=128, channels=16, num_classes=num_classes,
                    norm_cfg=BN)
        if kind == 'deeplab':
            head.update(c1_in_channels=16, c1_channels=8, dilations=(1, 2, 3, 4))
        cfg['auxiliary_head'].update(in_channels=64, channels=8,
                                     num_classes=num_classes, norm_cfg=BN)
        cfg['flow_decoder'].update(in_channels=(16, 16, 32, 64), **TINY_FLOW)
    else:
        cfg['backbone'].update(widths=(4, 8, 16, 32, 32), fc_channels=32,
                               init_cfg=None)
        cfg['decode_head'].update(in_channels=32, channels=num_classes,
                                  num_classes=num_classes)
        cfg['flow_decoder'].update(in_channels=(4, 8, 16, 32), **TINY_FLOW)
    return cfg


def plain_cfg(efc_cfg: dict) -> dict:
    """The same network as a plain mmseg EncoderDecoder."""
    cfg = copy.deepcopy(efc_cfg)
    cfg['type'] = 'EncoderDecoder'
    for key in ('flow_decoder', 'flow_encoder', 'losses',
                'shared_stages', 'check_finite'):
        cfg.pop(key, None)
    cfg['train_cfg'] = dict()
    cfg['data_preprocessor']['type'] = 'SegDataPreProcessor'
    return cfg


def pair_batch(b=2, h=64, w=64, num_classes=5, labelled=(True, False),
               seed=0):
    """Normalised pair inputs ``(B, 2, 3, H, W)`` and their
    :class:`~efc_mm.structures.PairDataSample` (random labels on the
    labelled frames, 255 on the others), from a seeded generator."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from ..structures import PairDataSample
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(b, 2, 3, h, w, generator=g)
    samples = []
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))
    for _ in range(b):
        s = PairDataSample(metainfo=dict(frame_gap=1, labelled=labelled))
        frames = []
        for lab in labelled:
            f = SegDataSample(metainfo=meta)
            gt = (torch.randint(0, num_classes, (1, h, w), generator=g) if lab
                  else torch.full((1, h, w), 255))
            f.gt_sem_seg = PixelData(data=gt.long())
            frames.append(f)
        s.frame1, s.frame2 = frames
        samples.append(s)
    return inputs, samples


def sync_bn_to_bn(node):
    """Every ``SyncBN`` of a config (nested dicts / lists) -> ``BN``, in
    place (for one process on the CPU); returns ``node``."""
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
        for v in node.values():
            sync_bn_to_bn(v)
    elif isinstance(node, list):
        for v in node:
            sync_bn_to_bn(v)
    return node
