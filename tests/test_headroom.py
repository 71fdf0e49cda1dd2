"""The synthetic headroom protocol (configs/synthetic_headroom/) and
bench/headroom.py (issue 17 items 2-3), without training: the three configs
parse and their dataloaders build on tiny worlds (EFC: exactly 4 labelled +
2 unlabelled pairs a batch; oracle: all labelled, from both worlds;
baseline: the labelled world only), and the bench's headroom / gain
arithmetic on fabricated logs."""
import copy
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

import efc_mm  # noqa: F401
from efc_mm.ablation import apply_row

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
from conftest import load_script  # noqa: E402

bench = load_script('bench', 'headroom.py')

CFG = osp.join(REPO, 'configs', 'synthetic_headroom')
EFC = osp.join(CFG, 'psp_efc_tiny_headroom.py')
BASELINE = osp.join(CFG, 'psp_baseline_tiny_headroom.py')
ORACLE = osp.join(CFG, 'psp_oracle_tiny_headroom.py')
LAB, UNL = 'data/efc_synthetic_headroom_lab', 'data/efc_synthetic_headroom_unl'


def _sources(cfg):
    ds = cfg.train_dataloader.dataset
    return ds.sources if ds.type == 'MultiSourcePairDataset' else [ds]


def _metric_types(cfg):
    return [m['type'] for m in cfg.val_evaluator]


# --------------------------------------------------------------- configs
def test_efc_protocol_as_specified():
    cfg = Config.fromfile(EFC)
    dl = cfg.train_dataloader
    assert dl.batch_size == 6
    assert dl.sampler.type == 'MultiSourceSampler'
    assert dl.sampler.batch_size == 6 and dl.sampler.source_ratio == [4, 2]
    assert dl.dataset.type == 'MultiSourcePairDataset'
    # only the wrapper's keys: the base's single-stream keys were deleted
    assert set(dl.dataset) == {'type', 'sources'}
    lab, unl = dl.dataset.sources
    assert lab.data_root == LAB and unl.data_root == UNL
    assert lab.world == dict(num_train_snippets=6, num_val_snippets=4,
                             height=128, width=256, seed=0)
    assert unl.world.num_train_snippets == 42
    assert unl.world.seed != lab.world.seed
    assert (unl.world.height, unl.world.width) == (128, 256)
    assert lab.pairs_per_snippet == 10 == lab.labelled_pairs
    assert lab.get('labelled', True) and unl.labelled is False
    assert lab.labelled_index == 19 == unl.labelled_index
    # the model base's objective, unchanged
    model = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'models',
                                     'psp_efc_tiny.py')).model
    assert cfg.model.losses == model.losses
    assert cfg.model.flow_decoder == model.flow_decoder
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == 1000 == cfg.param_scheduler[0].end
    assert cfg.train_cfg.val_interval == 250
    assert cfg.param_scheduler[0].type == 'PolyLR'
    # evaluation: every consecutive pair of the labelled world's val
    # snippets, the quick start's metrics
    for key in ('val_dataloader', 'test_dataloader'):
        ds = cfg[key].dataset
        assert ds.mode == 'consecutive' and ds.data_root == LAB
        assert ds.world == lab.world
        assert ds.data_prefix.img_path == 'leftImg8bit_sequence/val'
        assert 'indices' not in ds
    assert _metric_types(cfg) == ['PairIoUMetric', 'EFCFlowMetric',
                                  'TemporalConsistencyMetric']
    assert cfg.val_evaluator[2].flow_source == 'gt'


def test_baseline_and_oracle_as_specified():
    efc = Config.fromfile(EFC)
    lab_efc, unl_efc = efc.train_dataloader.dataset.sources
    base, oracle = Config.fromfile(BASELINE), Config.fromfile(ORACLE)
    for cfg in (base, oracle):
        assert cfg.model.get('flow_decoder') is None
        assert cfg.model.get('losses') is None
        assert cfg.train_dataloader.batch_size == 4
        assert cfg.train_dataloader.sampler == dict(type='InfiniteSampler',
                                                    shuffle=True)
        assert _metric_types(cfg) == ['PairIoUMetric',
                                      'TemporalConsistencyMetric']
        assert cfg.val_dataloader == efc.val_dataloader
        assert cfg.train_cfg == efc.train_cfg
        assert cfg.param_scheduler == efc.param_scheduler
        for src in _sources(cfg):
            # the baseline row's draw: one pair per snippet, its label
            assert src.pairs_per_snippet == 1 == src.labelled_pairs
            assert src.with_unlabelled is False
            assert src.get('labelled', True)
            assert src.pipeline == lab_efc.pipeline
    (src, ) = _sources(base)
    assert src.type == 'SyntheticWorldPairDataset'
    assert (src.data_root, src.world) == (LAB, lab_efc.world)
    assert oracle.train_dataloader.dataset.type == 'MultiSourcePairDataset'
    assert [(s.data_root, s.world) for s in _sources(oracle)] == [
        (LAB, lab_efc.world), (UNL, unl_efc.world)]
    assert 'snippet_source' not in oracle


def test_rows_apply_to_the_labelled_source():
    """``tools/train.py EFC --row ROW`` (extra EFC rows of the bench): the
    row's pair draw goes into source 0, source 1 is untouched."""
    cfg = apply_row(Config.fromfile(EFC), 'TCC_single')
    lab, unl = cfg.train_dataloader.dataset.sources
    assert lab.pairs_per_snippet == 1 and lab.with_unlabelled is False
    assert unl == Config.fromfile(EFC).train_dataloader.dataset.sources[1]
    assert cfg.train_dataloader.sampler.source_ratio == [4, 2]


# ------------------------------------------------- dataloaders, tiny worlds
TINY = dict(height=32, width=64, frames_per_snippet=4, labelled_frame=1,
            workers=0)
TINY_TRAIN = {LAB: 2, UNL: 3}


def _tiny(cfg, root):
    """``cfg`` with every world shrunk (2 labelled / 3 unlabelled train
    snippets, 1 val snippet, 32x64, 4 frames, frame 1 labelled) under
    ``root``; loaders in the main process."""
    cfg = copy.deepcopy(cfg)
    for key in ('train_dataloader', 'val_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
        for ds in bench._datasets(cfg[key].dataset):
            if 'world' not in ds:
                continue
            w = ds.world
            ds.world = dict(TINY, seed=w.seed,
                            num_train_snippets=TINY_TRAIN[ds.data_root],
                            num_val_snippets=min(w.num_val_snippets, 1))
            ds.data_root = osp.join(root, osp.basename(ds.data_root))
            ds.frames_per_snippet, ds.labelled_index, ds.max_gap = 4, 1, 2
    return cfg


def _loader(cfg, key='train_dataloader'):
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    with DefaultScope.overwrite_default_scope('mmseg'):
        return Runner.build_dataloader(cfg[key], seed=0)


def _world(sample, root):
    """'lab' / 'unl': the world a pair's frames come from."""
    paths = {sample.frame1.img_path, sample.frame2.img_path}
    worlds = {osp.basename(osp.dirname(osp.dirname(osp.dirname(
        osp.dirname(p))))) for p in paths}
    assert len(worlds) == 1, paths
    return {osp.basename(LAB): 'lab', osp.basename(UNL): 'unl'}[worlds.pop()]


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('headroom_worlds'))


def test_efc_batches_four_labelled_two_unlabelled(tiny_root):
    cfg = _tiny(Config.fromfile(EFC), tiny_root)
    loader = _loader(cfg)
    assert loader.dataset.source_sizes == [2 * 10, 3 * 10]
    for _, batch in zip(range(3), loader):
        samples = batch['data_samples']
        assert len(samples) == 6 == len(batch['inputs'])
        labelled = [s.labelled for s in samples]
        # 4 labelled pairs (each holds its snippet's labelled frame), then
        # 2 pairs of two unlabelled frames
        assert [any(f) for f in labelled] == [True] * 4 + [False] * 2
        assert labelled[4:] == [(False, False)] * 2
        assert [_world(s, tiny_root) for s in samples] == \
            ['lab'] * 4 + ['unl'] * 2
        for s in samples[4:]:
            for f in (s.frame1, s.frame2):
                assert bool((f.gt_sem_seg.data == 255).all())
    val = _loader(cfg, 'val_dataloader')
    assert len(val.dataset) == 3          # one val snippet, 4 frames
    sample = next(iter(val))['data_samples'][0]
    assert 'gt_flow_fw' in sample and 'gt_occ_fw' in sample


def test_oracle_all_labelled_from_both_worlds(tiny_root):
    loader = _loader(_tiny(Config.fromfile(ORACLE), tiny_root))
    # one item per snippet: a uniform draw over the 2 + 3 snippets
    assert loader.dataset.source_sizes == [2, 3]
    worlds = set()
    for _, batch in zip(range(4), loader):
        samples = batch['data_samples']
        assert len(samples) == 4
        assert all(any(s.labelled) for s in samples)
        for s in samples:
            pix = sum(int((f.gt_sem_seg.data != 255).sum())
                      for f in (s.frame1, s.frame2))
            assert pix > 0
            worlds.add(_world(s, tiny_root))
    assert worlds == {'lab', 'unl'}


def test_baseline_labelled_world_only(tiny_root):
    loader = _loader(_tiny(Config.fromfile(BASELINE), tiny_root))
    assert len(loader.dataset) == 2
    for _, batch in zip(range(3), loader):
        samples = batch['data_samples']
        assert len(samples) == 4
        assert all(any(s.labelled) for s in samples)
        assert {_world(s, tiny_root) for s in samples} == {'lab'}


# ----------------------------------------------------- bench arithmetic
def _fake_run(root, name, seed, iters, miou, epe=None, step=None):
    wd = osp.join(bench.work_dir(root, name, seed, iters), '20260101_000000',
                  'vis_data')
    os.makedirs(wd)
    rec = {'mIoU': miou, 'TC(flow=gt)': 80.0, 'step': step or iters}
    if epe is not None:
        rec['EPE_all'] = epe
    with open(osp.join(wd, 'scalars.json'), 'w') as f:
        f.write(json.dumps(dict(loss=1.0, step=1)) + '\n')
        f.write(json.dumps(dict(rec, mIoU=miou - 5, step=iters // 2)) + '\n')
        f.write(json.dumps(rec) + '\n')


SPECS = bench.row_specs(efc_rows=['no_cons=configs/synthetic_headroom/'
                                  'psp_efc_tiny_headroom.py:no_cons'])


def test_specs():
    assert [s[0] for s in SPECS] == ['baseline', 'oracle', 'EFC', 'no_cons']
    assert SPECS[3][1:] == (osp.join('configs', 'synthetic_headroom',
                                     'psp_efc_tiny_headroom.py'), 'no_cons')
    assert bench.parse_spec('A=x/y.py') == ('A', 'x/y.py', None)
    assert bench.parse_spec('A=x/y.py:UL+OE+TC') == ('A', 'x/y.py',
                                                     'UL+OE+TC')
    specs = bench.row_specs('baseline=b.py,EFC=e.py:full')
    assert specs == [('baseline', 'b.py', None), ('oracle', bench.CONFIGS[
        'oracle'], None), ('EFC', 'e.py', 'full')]
    for bad in ('nothing', '=x.py'):
        with pytest.raises(ValueError, match='NAME=CONFIG'):
            bench.parse_spec(bad)
    with pytest.raises(ValueError, match='reference row'):
        bench.row_specs(efc_rows=['oracle=x.py'])
    for name, cfg, _ in bench.row_specs():
        assert osp.exists(osp.join(REPO, cfg)), name


def test_headroom_and_gains_by_hand(tmp_path):
    root = str(tmp_path)
    # seed: baseline, oracle, EFC, no_cons
    vals = {0: (40.0, 46.0, 42.0, 39.0), 1: (42.0, 47.0, 43.0, 41.0),
            2: (41.0, 48.0, 44.5, 40.0)}
    for seed, (b, o, e, n) in vals.items():
        _fake_run(root, 'baseline', seed, 100, b)
        _fake_run(root, 'oracle', seed, 100, o)
        _fake_run(root, 'EFC', seed, 100, e, epe=2.5)
        _fake_run(root, 'no_cons', seed, 100, n, epe=3.0)
    res = bench.collect(SPECS, [0, 1, 2], 100, root)
    rows = {r['name']: r for r in res['rows']}
    assert rows['baseline']['mIoU'] == [40.0, 42.0, 41.0]
    assert rows['baseline']['EPE_all'] is None
    assert rows['EFC']['EPE_all'] == [2.5] * 3
    assert rows['no_cons']['row'] == 'no_cons'
    assert rows['baseline']['TC'] == [80.0] * 3
    # oracle - baseline per seed: 6, 5, 7 -> mean 6, sample std 1
    assert res['headroom'] == pytest.approx(6.0)
    assert res['headroom_std'] == pytest.approx(1.0)
    assert res['can_show_method'] is True and res['note'] is None
    # EFC - baseline: 2, 1, 3.5 -> mean 13/6, std sqrt(19/12)
    g = res['gains']['EFC']
    assert g['mean'] == pytest.approx(13 / 6)
    assert g['std'] == pytest.approx((19 / 12) ** 0.5)
    assert g['pct_of_headroom'] == pytest.approx(100 * 13 / 36)
    assert g['seeds'] == [0, 1, 2]
    # no_cons: -1, -1, -1 -> -1, std 0, -16.7 %
    g = res['gains']['no_cons']
    assert (g['mean'], g['std']) == (pytest.approx(-1.0), pytest.approx(0.))
    assert g['pct_of_headroom'] == pytest.approx(-100 / 6)
    assert set(res['gains']) == {'EFC', 'no_cons'}
    md = bench.markdown(dict(protocols=[res]))
    assert 'Headroom: 6.00 ± 1.00 mIoU' in md and ': yes' in md
    assert '| EFC | `psp_efc_tiny_headroom.py` | 3 | 43.17 ± 1.26 |' in md
    assert '+2.17 ± 1.26 | 36 % |' in md
    assert '`psp_efc_tiny_headroom.py --row no_cons`' in md


def test_small_headroom_is_flagged(tmp_path):
    root = str(tmp_path)
    # seed 2 of the oracle unfinished (stopped at half): paired over 0, 1
    for seed, (b, o) in enumerate([(49.0, 50.5), (50.0, 51.5), (49.5, 60)]):
        _fake_run(root, 'baseline', seed, 100, b)
        _fake_run(root, 'oracle', seed, 100, o,
                  step=50 if seed == 2 else None)
    _fake_run(root, 'EFC', 0, 100, 49.6)
    res = bench.collect(SPECS, [0, 1, 2], 100, root)
    rows = {r['name']: r for r in res['rows']}
    assert rows['oracle']['seeds'] == [0, 1]
    assert rows['no_cons']['seeds'] == [] and rows['no_cons']['mIoU'] == []
    assert res['headroom'] == pytest.approx(1.5)
    assert res['headroom_std'] == pytest.approx(0.0)
    assert res['headroom_seeds'] == [0, 1]
    assert res['can_show_method'] is False
    assert 'cannot show' in res['note'] and '1.50' in res['note']
    g = res['gains']['EFC']
    # one seed: a mean, no std
    assert g['mean'] == pytest.approx(0.6) and g['std'] is None
    assert g['pct_of_headroom'] == pytest.approx(40.0)
    assert res['gains']['no_cons'] == dict(mean=None, std=None,
                                           pct_of_headroom=None, seeds=[])
    md = bench.markdown(dict(protocols=[res]))
    assert ': **no**' in md and res['note'] in md
    # the threshold is a parameter; no oracle at all: not measured
    assert bench.summarise(res['rows'], 1.0)['can_show_method'] is True
    none = bench.summarise([r for r in res['rows'] if r['name'] != 'oracle'])
    assert none['headroom'] is None and none['can_show_method'] is None
    assert none['gains']['EFC']['pct_of_headroom'] is None


def test_main_collect_only_merges_by_protocol_and_encoder(tmp_path):
    work, out = str(tmp_path / 'work'), str(tmp_path / 'res' / 'h.json')
    root = bench.run_root(work, bench.PROTOCOL, 'scratch')
    for seed, (b, o, e) in enumerate([(40., 45., 41.), (41., 45., 43.)]):
        _fake_run(root, 'baseline', seed, 100, b)
        _fake_run(root, 'oracle', seed, 100, o)
        _fake_run(root, 'EFC', seed, 100, e)
    other = dict(protocol='camvid', encoder='scratch', headroom=1.0)
    os.makedirs(osp.dirname(out))
    stale = dict(protocol=bench.PROTOCOL, encoder='scratch', headroom=-9)
    lite = dict(protocol=bench.PROTOCOL, encoder='efficientnet_lite0',
                headroom=9.0, iterations=1, rows=[], gains={})
    with open(out, 'w') as f:
        json.dump(dict(protocols=[other, stale, lite]), f)
    args = ['--collect-only', '--seeds', '0', '1', '--iters', '100',
            '--work-root', work, '--out', out]
    bench.main(args)
    bench.main(args)                    # idempotent: replaced, not added
    with open(out) as f:
        res = json.load(f)
    assert [(p['protocol'], p['encoder']) for p in res['protocols']] == [
        ('camvid', 'scratch'), (bench.PROTOCOL, 'scratch'),
        (bench.PROTOCOL, 'efficientnet_lite0')]
    entry = res['protocols'][1]
    assert entry['iterations'] == 100
    assert entry['headroom'] == pytest.approx(4.5)   # (5 + 4) / 2
    assert entry['can_show_method'] is True
    assert entry['gains']['EFC']['mean'] == pytest.approx(1.5)
    assert entry['gains']['EFC']['pct_of_headroom'] == pytest.approx(
        100 * 1.5 / 4.5)
    assert [r['name'] for r in entry['rows']] == ['baseline', 'oracle', 'EFC']
    assert res['protocols'][0] == other
    md = open(osp.splitext(out)[0] + '.md').read()
    assert 'encoder efficientnet_lite0' in md and 'encoder scratch' in md


def test_gains_over_the_paired_control(tmp_path):
    """With a ``control`` row, every EFC row also gets its paired
    difference to it (by hand), and the control is a reference row."""
    root = str(tmp_path)
    specs = SPECS[:3] + [('control', 'c.py', None)]
    vals = {0: (40.0, 46.0, 42.0, 41.0), 1: (42.0, 47.0, 43.0, 41.5),
            2: (41.0, 48.0, 44.5, 42.0)}
    for seed, (b, o, e, c) in vals.items():
        _fake_run(root, 'baseline', seed, 100, b)
        _fake_run(root, 'oracle', seed, 100, o)
        _fake_run(root, 'EFC', seed, 100, e, epe=2.5)
        _fake_run(root, 'control', seed, 100, c)
    res = bench.collect(specs, [0, 1, 2], 100, root)
    assert set(res['gains']) == {'EFC'}
    g = res['gains']['EFC']
    # EFC - control: 1, 1.5, 2.5 -> mean 5/3, sample std sqrt(7/12)
    assert g['control_mean'] == pytest.approx(5 / 3)
    assert g['control_std'] == pytest.approx((7 / 12) ** 0.5)
    assert g['control_seeds'] == [0, 1, 2]
    assert g['mean'] == pytest.approx(13 / 6)  # over the baseline, as before
    md = bench.markdown(dict(protocols=[res]))
    assert '| 36 % | +1.67 ± 0.76 |' in md
    with pytest.raises(ValueError, match='reference row'):
        bench.row_specs(efc_rows=['control=x.py'])
