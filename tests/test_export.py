"""Export of the EFC segmentation branch to stock mmseg.

The key check runs a **subprocess that never imports efc_mm** and loads the
exported config + checkpoint with ``mmseg.apis`` alone. On this machine
mmcv is ``mmcv-lite`` (no compiled ``mmcv._ext``), and mmseg 1.2.2 imports
``mmcv.ops`` unguarded, so *any* plain mmseg process fails at
``import mmseg.models`` here, with or without efc_mm. The subprocess
therefore loads ``efc_mm/compat.py`` as a standalone file (not as the
``efc_mm`` package: nothing of efc_mm is registered) and installs only its
``mmcv.ops`` stand-in. That is the mmcv-lite workaround, not an efc_mm
dependency of the exported model: with full mmcv it is a no-op. The
subprocess asserts that no ``efc_mm`` module is loaded and no EFC type is
registered.
"""
import os.path as osp
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

import efc_mm  # noqa: F401
from efc_mm.apis import (NotStockMMSegError, export_config, export_segmentor,
                         inference_segmentor, init_model)

from efc_mm.testing import tiny_model_cfg

from conftest import REPO_ROOT, load_script  # noqa: E402

STOCK_SCRIPT = textwrap.dedent('''
    import importlib.util, sys
    import torch
    spec = importlib.util.spec_from_file_location(
        '_mmcv_lite_standin', {compat!r})
    compat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compat)
    compat.install_mmcv_ops_standin()   # mmcv-lite only; no-op on full mmcv
    from mmseg.apis import inference_model, init_model
    from mmseg.registry import MODELS
    model = init_model({cfg!r}, {ckpt!r}, device='cpu')
    res = inference_model(model, {img!r})
    torch.save(dict(
        pred=res.pred_sem_seg.data, logits=res.seg_logits.data,
        model_type=type(model).__name__,
        classes=list(model.dataset_meta['classes']),
        efc_modules=[m for m in sys.modules if m.startswith('efc_mm')],
        efc_registered=MODELS.get('EFCSegmentor') is not None), {out!r})
''')


def write_efc(tmp, kind='psp', extra=None):
    cfg = dict(model=tiny_model_cfg(kind), default_scope='mmseg',
               custom_imports=dict(imports=['efc_mm'],
                                   allow_failed_imports=False))
    cfg.update(extra or {})
    path = str(tmp / f'tiny_{kind}_efc.py')
    Config(cfg).dump(path)
    return path


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('export')
    cfg = write_efc(tmp)
    torch.manual_seed(1)
    model = init_model(cfg)
    with torch.no_grad():  # non-trivial BN statistics
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    ckpt = str(tmp / 'efc.pth')
    meta = dict(dataset_meta=dict(classes=('a', 'b', 'c', 'd', 'e'),
                                  palette=[[i, i, i] for i in range(5)]),
                seed=np.int64(3))  # numpy: needs weights_only=False
    torch.save(dict(state_dict=model.state_dict(), meta=meta,
                    message_hub=dict(x=np.ones(2))), ckpt)
    out = export_segmentor(cfg, ckpt, str(tmp / 'out'))
    img = str(tmp / 'img.png')
    rng = np.random.RandomState(0)
    cv2.imwrite(img, rng.randint(0, 255, (40, 56, 3)).astype(np.uint8))
    return dict(tmp=tmp, cfg=cfg, ckpt=ckpt, out=out, img=img,
                state=model.state_dict())


def test_exported_config_is_stock(exported):
    lines = open(exported['out']['config']).read().splitlines()
    assert lines[0].startswith('# Stock mmseg config exported by efc_mm')
    code = '\n'.join(ln for ln in lines if not ln.startswith('#'))
    for word in ('EFC', 'efc_mm', 'flow_decoder', 'shared_stages',
                 'efc_losses', 'PairSeg', 'custom_imports'):
        assert word not in code, word
    cfg = Config.fromfile(exported['out']['config'])
    src = Config.fromfile(exported['cfg'])
    assert cfg.model.type == 'EncoderDecoder'
    dp = cfg.model.data_preprocessor
    assert dp.type == 'SegDataPreProcessor'
    for key in ('mean', 'std', 'bgr_to_rgb', 'pad_val', 'seg_pad_val'):
        assert dp[key] == src.model.data_preprocessor[key], key
    for key in ('backbone', 'decode_head', 'auxiliary_head', 'test_cfg'):
        assert cfg.model[key] == src.model[key], key
    assert cfg.test_pipeline[0]['type'] == 'LoadImageFromFile'


def test_exported_checkpoint_weights_only(exported):
    ckpt = torch.load(exported['out']['checkpoint'], weights_only=True)
    keys = set(ckpt['state_dict'])
    efc = exported['state']
    assert keys == {k for k in efc if not k.startswith('flow_decoder.')}
    assert all(k.startswith('flow_decoder.')
               for k in exported['out']['dropped_keys'])
    assert len(exported['out']['dropped_keys']) > 0
    for k in keys:
        assert torch.equal(ckpt['state_dict'][k], efc[k]), k
    assert ckpt['meta']['dataset_meta']['classes'] == ('a', 'b', 'c', 'd',
                                                       'e')
    assert set(ckpt['meta']) == {'dataset_meta', 'exported_from',
                                 'exported_by'}


def test_stock_mmseg_process_predicts_identically(exported):
    out_file = str(exported['tmp'] / 'stock_pred.pth')
    script = STOCK_SCRIPT.format(
        compat=osp.join(REPO_ROOT, 'efc_mm', 'compat.py'),
        cfg=exported['out']['config'], ckpt=exported['out']['checkpoint'],
        img=exported['img'], out=out_file)
    env = dict(__import__('os').environ, OMP_NUM_THREADS='1',
               PYTHONPATH='')  # efc_mm is not importable from the child
    proc = subprocess.run([sys.executable, '-c', script], env=env,
                          cwd=str(exported['tmp']), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stock = torch.load(out_file, weights_only=False)
    assert stock['model_type'] == 'EncoderDecoder'
    assert stock['efc_modules'] == [] and not stock['efc_registered']
    assert stock['classes'] == ['a', 'b', 'c', 'd', 'e']
    efc_model = init_model(exported['cfg'], exported['ckpt'])
    assert type(efc_model).__name__ == 'EFCSegmentor'
    ref = inference_segmentor(efc_model, exported['img'])
    assert ref.pred_sem_seg.shape == (40, 56)
    assert torch.equal(stock['pred'], ref.pred_sem_seg.data)
    assert torch.equal(stock['logits'], ref.seg_logits.data)


def test_dilation_model_is_refused(tmp_path):
    cfg = write_efc(tmp_path, 'dilation')
    with pytest.raises(NotStockMMSegError) as err:
        export_segmentor(cfg, cfg, str(tmp_path / 'out'))  # before loading
    msg = str(err.value)
    assert 'model.backbone' in msg and 'DilatedVGG16' in msg
    assert 'model.decode_head' in msg and 'ContextModuleHead' in msg
    assert not osp.exists(tmp_path / 'out' / 'tiny_dilation_efc_mmseg.pth')


def test_export_config_keeps_only_stock_entries():
    stock_pipe = [dict(type='LoadImageFromFile'),
                  dict(type='Resize', scale=(64, 32), keep_ratio=True),
                  dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
    cfg = Config(dict(
        model=tiny_model_cfg('psp'), default_scope='mmseg',
        custom_imports=dict(imports=['efc_mm', 'numpy']),
        train_dataloader=dict(batch_size=2, dataset=dict(
            type='CamVidVideoDataset', pipeline=[])),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=10),
        optim_wrapper=dict(type='OptimWrapper',
                           optimizer=dict(type='SGD', lr=0.01)),
        val_dataloader=dict(batch_size=1, dataset=dict(
            type='CityscapesDataset', pipeline=stock_pipe)),
        val_evaluator=dict(type='IoUMetric'), val_cfg=dict(type='ValLoop'),
        test_pipeline=stock_pipe,
        custom_hooks=[dict(type='PairVisualizationHook'),
                      dict(type='EMAHook')]))
    out, notes = export_config(cfg)
    assert 'train_dataloader' not in out and 'optim_wrapper' not in out
    assert 'train_cfg' in notes and 'CamVid' not in out.pretty_text
    assert out.val_dataloader.dataset.type == 'CityscapesDataset'
    assert out.val_evaluator.type == 'IoUMetric'
    assert out.test_pipeline == stock_pipe
    assert out.custom_imports['imports'] == ['numpy']
    assert [h['type'] for h in out.custom_hooks] == ['EMAHook']
    pair = Config(dict(model=tiny_model_cfg('psp'),
                       test_pipeline=[dict(type='LoadPairFromFile')]))
    out, notes = export_config(pair)
    assert out.test_pipeline[0]['type'] == 'LoadImageFromFile'
    assert 'test_pipeline' in notes


def test_export_tool_cli(exported, tmp_path):
    tool = load_script('tools', 'export_segmentor.py')
    out = tool.main([exported['cfg'], exported['ckpt'], str(tmp_path),
                     '--name', 'seg'])
    assert out['config'] == str(tmp_path / 'seg.py')
    assert osp.isfile(tmp_path / 'seg.pth')
    with pytest.raises(FileNotFoundError, match='none.pth'):
        tool.main([exported['cfg'], str(tmp_path / 'none.pth'),
                   str(tmp_path)])


def test_export_config_single_frame_test_loader_and_no_pair_leftovers(
        tmp_path):
    """Issue 10 item 10: the exported config drops the pair_* entries and
    the synthetic world's settings, and tests on the source's single-frame
    dataset (SyntheticWorldDataset -> mmseg's CityscapesDataset) when the
    source tests on pairs."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from efc_mm.apis.export import non_stock_types
    root = str(tmp_path / 'synth')
    world = dict(num_train_snippets=1, num_val_snippets=2, height=32,
                 width=64, seed=1)
    src = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_',
                                   'datasets', 'synthetic_world.py'))
    src.merge_from_dict(dict(
        model=tiny_model_cfg('psp'), world=world,
        visualizer=dict(type='PairLocalVisualizer', max_flow=5.0,
                        vis_backends=[dict(type='LocalVisBackend')]),
        default_hooks=dict(visualization=dict(
            type='PairSegVisualizationHook', interval=1))))
    for key in ('train', 'val', 'pair_test'):
        src[f'{key}_dataloader']['dataset'].update(data_root=root,
                                                   world=world)
    assert src.test_dataloader.dataset.type == 'SyntheticWorldPairDataset'
    out, notes = export_config(src)
    assert not [k for k in out if k.startswith('pair_') or k == 'world']
    assert 'pair_test_dataloader' in notes and 'world' in notes
    assert non_stock_types(out.to_dict()) == []
    test = out.test_dataloader.dataset
    assert test.type == 'CityscapesDataset' and 'world' not in test
    assert out.test_evaluator.type == 'IoUMetric'
    assert out.test_cfg == dict(type='TestLoop')
    assert 'single-frame val loader' in notes['test_dataloader']
    assert out.visualizer.type == 'SegLocalVisualizer'
    assert 'max_flow' not in out.visualizer
    assert out.default_hooks.visualization.type == 'SegVisualizationHook'
    assert 'pair_' not in out.pretty_text
    assert 'world' not in out.pretty_text.replace(str(tmp_path), '')
    # the exported loader reads the same frames as the source's val set
    init_default_scope('mmseg')
    ours = DATASETS.build(src.val_dataloader.dataset.to_dict())  # generates
    stock = DATASETS.build(test.to_dict())
    assert type(stock).__name__ == 'CityscapesDataset'
    assert len(stock) == len(ours) == 2
    assert [d['img_path'] for d in stock.data_list] == \
        [d['img_path'] for d in ours.data_list]
    assert stock[0]['inputs'].shape[-2:] == (32, 64)
    # a source without a single-frame dataset says why there is no test
    pair_only = Config(dict(model=tiny_model_cfg('psp'),
                            test_dataloader=src.test_dataloader.to_dict(),
                            test_evaluator=[dict(type='EFCFlowMetric')]))
    out, notes = export_config(pair_only)
    assert 'test_dataloader' not in out
    assert 'no single-frame stock dataset' in notes['test_dataloader']
    # ... or another single-frame loader entry, scored with mmseg's IoU
    pair_only.frames_dataloader = src.val_dataloader.to_dict()
    out, notes = export_config(pair_only)
    assert out.test_dataloader.dataset.type == 'CityscapesDataset'
    assert out.test_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])
    assert '`frames_dataloader`' in notes['test_dataloader']
