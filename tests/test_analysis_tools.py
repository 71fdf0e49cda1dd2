"""tools/analysis_tools: analyze_logs (mmengine json logs written here),
browse_dataset (a tiny synthetic world through the quick-start train
pipeline) and get_flops (quick-start EFC vs its stock mmseg export)."""
import importlib.util
import json
import os
import os.path as osp
import time

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICK = osp.join(REPO, 'configs', 'quickstart',
                 'psp_efc_tiny_synthetic_cpu.py')
BASELINE = osp.join(REPO, 'configs', 'quickstart',
                    'psp_baseline_tiny_synthetic_cpu.py')


def _tool(name):
    path = osp.join(REPO, 'tools', 'analysis_tools', name + '.py')
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------ analyze_logs
def write_log(work_dir, stamp, losses, metrics, times):
    """An mmengine-style vis_data json log: a training line every 10 iters
    (with lr), a validation line at 20 and 40."""
    d = osp.join(work_dir, stamp, 'vis_data')
    os.makedirs(d, exist_ok=True)
    path = osp.join(d, stamp + '.json')
    with open(path, 'w') as f:
        for i, (step, lc) in enumerate(losses):
            rec = {'lr': 0.001, 'data_time': 0.01, 'loss': lc + 0.5,
                   'decode.loss_ce': lc, 'loss_cons': lc / 10,
                   'time': times[i], 'iter': step, 'memory': 0,
                   'step': step}
            f.write(json.dumps(rec) + '\n')
            for mstep, m in metrics:
                if mstep == step:
                    f.write(json.dumps({'mIoU': m, 'TC(flow=gt)': 90 + m / 10,
                                        'data_time': 0.1, 'time': 0.2,
                                        'step': step}) + '\n')
    with open(osp.join(d, 'scalars.json'), 'w') as f:
        f.write('{"step": 1, "lr": 1.0}\n')
    return path


def test_analyze_logs_loads_plots_and_times(tmp_path):
    al = _tool('analyze_logs')
    steps = [10, 20, 30, 40]
    a = write_log(str(tmp_path / 'a'), '20260101_000000',
                  [(s, 2.0 - s / 40) for s in steps], [(20, 10.0), (40, 20.0)],
                  [0.5, 0.7, 0.3, 0.5])
    older = write_log(str(tmp_path / 'b'), '20250101_000000',
                      [(10, 9.0)], [], [1.0])
    os.utime(older, (time.time() - 100, time.time() - 100))
    b = write_log(str(tmp_path / 'b'), '20260102_000000',
                  [(s, 1.5 - s / 40) for s in steps], [(40, 30.0)],
                  [1.0, 1.0, 1.0, 1.0])
    # a work dir resolves to its newest named json log (not scalars.json)
    assert al.find_json_log(str(tmp_path / 'b')) == b
    log = al.load_json_log(a)
    assert log['train']['decode.loss_ce'] == (
        [10.0, 20.0, 30.0, 40.0], [1.75, 1.5, 1.25, 1.0])
    assert log['val']['mIoU'] == ([20.0, 40.0], [10.0, 20.0])
    assert al.default_keys([log]) == ['loss', 'decode.loss_ce', 'loss_cons',
                                      'mIoU', 'TC(flow=gt)']
    out = str(tmp_path / 'curves.png')
    al.main(['plot_curve', str(tmp_path / 'a'), str(tmp_path / 'b'),
             '--legend', 'efc', 'base', '--out', out])
    img = cv2.imread(out)
    assert img is not None and img.shape[0] > 300 and img.shape[1] > 900
    out2 = str(tmp_path / 'one.png')
    al.main(['plot_curve', a, '--keys', 'loss_cons', 'mIoU', '--out', out2])
    assert cv2.imread(out2).shape[1] < img.shape[1]  # 2 panels, not 3 wide
    with pytest.raises(KeyError, match="'loss_pm'.*available"):
        al.main(['plot_curve', a, '--keys', 'loss_pm', '--out', out2])
    rows = al.main(['cal_train_time', a])
    assert rows[0]['mean'] == pytest.approx(0.5)
    assert (rows[0]['slowest_step'], rows[0]['fastest_step']) == (20, 30)
    bad = tmp_path / 'bad.json'
    bad.write_text('{"step": 1, "lr": 1}\nnot json\n')
    with pytest.raises(ValueError, match='line 2'):
        al.load_json_log(str(bad))


# ---------------------------------------------------------- browse_dataset
def _world_options(root, **extra):
    """cfg-options as a typed dict (for merge_from_dict) and as CLI args."""
    opts = {'train_dataloader.dataset.data_root': root,
            'train_dataloader.dataset.world.num_train_snippets': 1,
            'train_dataloader.dataset.world.num_val_snippets': 0,
            'train_dataloader.dataset.world.height': 48,
            'train_dataloader.dataset.world.width': 96}
    opts.update(extra)
    cli = [f'{k}={v}' for k, v in opts.items()]
    cli.append('train_dataloader.dataset.pipeline.3.crop_size=[48,48]')
    return opts, cli


@pytest.mark.slow
def test_browse_dataset_pairs_with_and_without_gt_flow(tmp_path):
    bd = _tool('browse_dataset')
    root = str(tmp_path / 'world')
    plain = bd.main([QUICK, '--output-dir', str(tmp_path / 'p'), '-n', '3',
                     '--cfg-options', *_world_options(root)[1]])
    assert len(plain) == 3 and all(osp.isfile(p) for p in plain)
    # consecutive pairs of the train split carry GT flow and occlusion
    cons = dict(**{
        'train_dataloader.dataset.mode': 'consecutive',
        'train_dataloader.dataset.data_prefix.flow_occ_path': 'flow_occ/train',
        'train_dataloader.dataset.data_prefix.occ_path': 'occlusion/train',
        'train_dataloader.dataset.data_prefix.seq_seg_map_path':
        'gtFine_sequence/train'})
    opts, cli = _world_options(root, **cons)
    flow = bd.main([QUICK, '--output-dir', str(tmp_path / 'f'), '-n', '2',
                    '--cfg-options', *cli])
    assert len(flow) == 2
    w_plain = cv2.imread(plain[0]).shape[1]
    w_flow = cv2.imread(flow[0]).shape[1]
    assert w_flow > w_plain  # + flow and occlusion columns

    # the maps drawn are the sample's ground truth after the pipeline
    from mmengine.config import Config
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(QUICK)
    cfg.merge_from_dict(opts)
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    item = ds[0]
    maps = bd.gt_maps(item['data_samples'])
    assert set(maps) == {'seg1', 'seg2', 'flow_fw', 'flow_bw', 'occ_fw',
                         'occ_bw'}
    h, w = item['inputs'].shape[-2:]
    assert maps['flow_fw'].shape == (h, w, 2)
    assert np.abs(maps['flow_fw']).max() > 0


# --------------------------------------------------------------- get_flops
def test_get_flops_segmentor_equals_stock_and_flow_branch_cost():
    gf = _tool('get_flops')
    r = gf.main([QUICK, '--shape', '64', '64'])
    assert r['stock']  # the export is a pure mmseg EncoderDecoder
    assert r['seg_flops_efc'] == r['seg_flops_stock'] > 0
    assert r['efc_seg_params'] == r['stock_params']
    assert r['flow_params'] > 0 and r['flow_flops'] > 0
    assert r['efc_params'] == r['stock_params'] + r['flow_params']
    # independent count: 2 * Cout * Hout * Wout * Cin / groups * kh * kw over
    # every convolution of the stock model's single-frame forward (PSP has
    # no other multiply-add op there)
    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS

    from efc_mm.utils.cli import local_model_cfg
    stock_cfg, _ = gf.stock_model_cfg(Config.fromfile(QUICK))
    stock = MODELS.build(local_model_cfg(stock_cfg)).eval()
    total = []

    def hook(mod, inp, out):
        kh, kw = mod.kernel_size
        total.append(2 * out.shape[1] * out.shape[2] * out.shape[3] *
                     mod.in_channels // mod.groups * kh * kw)

    for m in stock.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(hook)
    with torch.no_grad():
        stock(torch.randn(1, 3, 64, 64), mode='tensor')
    assert sum(total) == r['seg_flops_stock']
    # no flow branch: nothing added
    rb = gf.main([BASELINE, '--shape', '64'])
    assert rb['seg_flops_efc'] == rb['seg_flops_stock']
    assert rb['flow_params'] == 0 and 'flow_flops' not in rb
