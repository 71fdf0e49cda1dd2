"""MultiSourcePairDataset + MultiSourceSampler: a fixed number of samples of
each source in every batch (issue 17, item 1).

Dummy sources (no images) for the sampler's arithmetic, a DataLoader end to
end, two gloo ranks on localhost, and one mmengine-Runner-built dataloader
over two tiny synthetic worlds (one labelled, one ``labelled=False``)."""
import json
import math
import os
import random
import socket
import traceback

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

import efc_mm  # noqa: F401
from conftest import tiny_world
from efc_mm.datasets import (MultiSourcePairDataset, MultiSourceSampler,
                             SyntheticWorldPairDataset)
from mmengine.registry import DefaultScope
from mmseg.registry import DATA_SAMPLERS, DATASETS


class _Source(Dataset):
    """``len == n``; item ``i`` is ``dict(source=tag, idx=i)``."""

    def __init__(self, n, tag, classes=('a', 'b')):
        self.n, self.tag = n, tag
        self.metainfo = dict(classes=classes, tag=tag)
        self.full_init_calls = 0

    def full_init(self):
        self.full_init_calls += 1

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return dict(source=self.tag, idx=i)

    def get_data_info(self, i):
        return dict(source=self.tag, idx=i, info=True)


def _wrapper(*sizes):
    return MultiSourcePairDataset([_Source(n, s) for s, n in enumerate(sizes)])


def _batches(sampler, num):
    it = iter(sampler)
    bs = sampler.batch_size
    return [[next(it) for _ in range(bs)] for _ in range(num)]


def _split(ds, batch):
    """``[(source, local)]`` of a batch of global indices."""
    return [ds.get_source_index(i) for i in batch]


# --------------------------------------------------------------- wrapper
def test_wrapper_index_mapping():
    ds = _wrapper(3, 5, 2)
    assert ds.cumulative_sizes == [3, 8, 10]
    assert ds.source_sizes == [3, 5, 2]
    assert ds.source_ranges == [range(0, 3), range(3, 8), range(8, 10)]
    assert len(ds) == 10
    expect = [(0, i) for i in range(3)] + [(1, i) for i in range(5)] + \
        [(2, i) for i in range(2)]
    assert [ds.get_source_index(i) for i in range(10)] == expect
    assert [(ds[i]['source'], ds[i]['idx']) for i in range(10)] == expect
    assert ds.get_source_index(-1) == (2, 1)
    assert ds[-10] == dict(source=0, idx=0)
    assert ds.get_data_info(4) == dict(source=1, idx=1, info=True)
    for bad in (10, -11):
        with pytest.raises(IndexError):
            ds[bad]
    # metainfo of the first source, a copy
    assert ds.metainfo['tag'] == 0
    ds.metainfo['tag'] = 5
    assert ds.metainfo['tag'] == 0
    assert 'sizes=[3, 5, 2]' in repr(ds)


def test_wrapper_lazy_init_and_errors():
    srcs = [_Source(4, 0), _Source(2, 1)]
    ds = MultiSourcePairDataset(srcs, lazy_init=True)
    assert ds.cumulative_sizes == [] and srcs[0].full_init_calls == 0
    assert len(ds) == 6                     # first access: full_init
    assert ds.cumulative_sizes == [4, 6]
    assert [s.full_init_calls for s in srcs] == [1, 1]
    ds.full_init()                          # idempotent
    assert [s.full_init_calls for s in srcs] == [1, 1]
    with pytest.raises(ValueError, match='non-empty list'):
        MultiSourcePairDataset([])
    with pytest.raises(ValueError, match='source 1 .*is empty'):
        MultiSourcePairDataset([_Source(3, 0), _Source(0, 1)])
    with pytest.raises(ValueError, match='source 1 .*classes'):
        MultiSourcePairDataset([_Source(3, 0), _Source(3, 1, ('x', 'y'))])
    assert 'MultiSourcePairDataset' in DATASETS.module_dict
    assert DATA_SAMPLERS.get('MultiSourceSampler') is MultiSourceSampler


# --------------------------------------------------------------- sampler
@pytest.mark.parametrize('sizes,ratio', [
    ((6, 18), (2, 2)), ((6, 18), (1, 3)), ((7, 13), (3, 1)),
    ((5, 9, 4), (1, 1, 2)), ((11,), (4,)), ((3, 40), (5, 1))])
def test_exact_counts_per_batch(sizes, ratio):
    ds = _wrapper(*sizes)
    sampler = MultiSourceSampler(ds, batch_size=sum(ratio),
                                 source_ratio=list(ratio), seed=3)
    expect = [s for s, k in enumerate(ratio) for _ in range(k)]
    for batch in _batches(sampler, 50):
        # the sources in block order: ratio[0] of source 0, then source 1
        assert [s for s, _ in _split(ds, batch)] == expect


@pytest.mark.parametrize('sizes,ratio', [
    ((6, 18), (2, 2)), ((7, 13), (1, 3)), ((5, 9, 4), (1, 1, 2))])
def test_every_sample_reached_each_pass(sizes, ratio):
    ds = _wrapper(*sizes)
    sampler = MultiSourceSampler(ds, batch_size=sum(ratio),
                                 source_ratio=list(ratio), seed=0)
    num = max(3 * math.ceil(n / k) for n, k in zip(sizes, ratio))
    batches = _batches(sampler, num)
    for s, (n, k) in enumerate(zip(sizes, ratio)):
        draws = [loc for b in batches for src, loc in _split(ds, b)
                 if src == s]
        assert len(draws) == num * k
        # every sample within ceil(n / k) batches ...
        first = ds.source_ranges[s]
        reached = {loc for b in batches[:math.ceil(n / k)]
                   for src, loc in _split(ds, b) if src == s}
        assert reached == set(range(len(first)))
        # ... and each pass of the source is a permutation of it,
        # reshuffled per pass (a small source cycles faster)
        passes = [draws[i:i + n] for i in range(0, len(draws) - n + 1, n)]
        assert len(passes) >= 3
        for p in passes:
            assert sorted(p) == list(range(n))
        if n > 3:
            assert len({tuple(p) for p in passes}) > 1


def test_deterministic_for_seed_and_epoch():
    ds = _wrapper(6, 18)

    def draw(seed, epoch=None, shuffle=True):
        s = MultiSourceSampler(ds, 4, [2, 2], shuffle=shuffle, seed=seed)
        if epoch is not None:
            s.set_epoch(epoch)
        return _batches(s, 50)

    assert draw(0) == draw(0)
    assert draw(0) != draw(1)
    assert draw(0, epoch=0) == draw(0)
    assert draw(0, epoch=1) != draw(0) and draw(0, 1) == draw(0, 1)
    # a fresh __iter__ restarts the stream (resume replays it)
    s = MultiSourceSampler(ds, 4, [2, 2], seed=5)
    assert _batches(s, 10) == _batches(s, 10)
    # no shuffle: each source in order, cycling
    plain = draw(0, shuffle=False)
    assert [_split(ds, b) for b in plain[:4]] == [
        [(0, 0), (0, 1), (1, 0), (1, 1)], [(0, 2), (0, 3), (1, 2), (1, 3)],
        [(0, 4), (0, 5), (1, 4), (1, 5)], [(0, 0), (0, 1), (1, 6), (1, 7)]]
    # seed=None: a random seed (the same on all ranks, see the DDP test)
    assert isinstance(MultiSourceSampler(ds, 4, [2, 2]).seed, int)
    assert len(MultiSourceSampler(ds, 4, [2, 2], seed=0)) == 24


def test_bad_arguments():
    ds = _wrapper(6, 18)
    with pytest.raises(ValueError, match=r'\[2, 3\] sums to 5 but '
                       r'batch_size is 4'):
        MultiSourceSampler(ds, batch_size=4, source_ratio=[2, 3])
    with pytest.raises(ValueError, match='3 entries but the dataset has 2'):
        MultiSourceSampler(ds, batch_size=4, source_ratio=[2, 1, 1])
    with pytest.raises(ValueError, match='>= 1'):
        MultiSourceSampler(ds, batch_size=4, source_ratio=[4, 0])
    with pytest.raises(ValueError, match='must be ints'):
        MultiSourceSampler(ds, batch_size=4, source_ratio=[2., 2.])
    for bs in (0, -4, 4.0, True):
        with pytest.raises(ValueError, match='batch_size must be a positive'):
            MultiSourceSampler(ds, batch_size=bs, source_ratio=[2, 2])
    with pytest.raises(ValueError, match='cumulative_sizes'):
        MultiSourceSampler(_Source(8, 0), batch_size=4, source_ratio=[4])
    s = MultiSourceSampler(ds, batch_size=4, source_ratio=[2, 2], seed=0)
    with pytest.raises(ValueError, match=r'dataloader batch_size \(8\) '
                       r'differs from the sampler batch_size \(4'):
        s.check_batch_size(8)


def test_dataloader_end_to_end():
    ds = _wrapper(6, 18)
    sampler = MultiSourceSampler(ds, batch_size=4, source_ratio=[1, 3],
                                 seed=0)
    loader = DataLoader(ds, batch_size=4, sampler=sampler, num_workers=0)
    seen = [set(), set()]
    for _, batch in zip(range(30), loader):
        assert batch['source'].tolist() == [0, 1, 1, 1]
        for src, idx in zip(batch['source'].tolist(), batch['idx'].tolist()):
            seen[src].add(idx)
    assert seen == [set(range(6)), set(range(18))]
    # a dataloader batch_size that cuts across the blocks is refused
    for bs in (3, 8):
        bad = DataLoader(ds, batch_size=bs, sampler=sampler)
        with pytest.raises(ValueError, match='dataloader batch_size'):
            next(iter(bad))


# ------------------------------------------------------------------ DDP
def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world_size, port, out_dir, sizes, ratio, num):
    import torch.distributed as tdist
    out = os.path.join(out_dir, f'rank{rank}.json')
    try:
        tdist.init_process_group(
            'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
            world_size=world_size)
        # forked ranks share the parent's RNG state: make them differ, so
        # that only the sampler's seed sync can make the streams agree
        np.random.seed(1000 + rank)
        random.seed(1000 + rank)
        ds = _wrapper(*sizes)
        sampler = MultiSourceSampler(ds, batch_size=sum(ratio),
                                     source_ratio=list(ratio))  # seed=None
        res = dict(rank=sampler.rank, world_size=sampler.world_size,
                   seed=sampler.seed,
                   batches=[_split(ds, b) for b in _batches(sampler, num)])
        tdist.destroy_process_group()
    except Exception:  # noqa: BLE001 - reported by the parent
        res = dict(error=traceback.format_exc())
    with open(out, 'w') as f:
        json.dump(res, f)


def test_ddp_two_ranks_disjoint(tmp_path):
    sizes, ratio, num = (8, 12), (1, 3), 8
    ctx = torch.multiprocessing.get_context('fork')
    port = _free_port()
    procs = [ctx.Process(target=_ddp_worker,
                         args=(r, 2, port, str(tmp_path), sizes, ratio, num))
             for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(5)
    res = []
    for r in range(2):
        path = tmp_path / f'rank{r}.json'
        assert path.exists(), f'rank {r} wrote nothing'
        res.append(json.loads(path.read_text()))
        assert 'error' not in res[r], res[r].get('error')
    assert [(x['rank'], x['world_size']) for x in res] == [(0, 2), (1, 2)]
    assert res[0]['seed'] == res[1]['seed']   # synced (seed=None)
    expect = [s for s, k in enumerate(ratio) for _ in range(k)]
    draws = []
    for x in res:
        assert len(x['batches']) == num
        for b in x['batches']:
            assert [s for s, _ in b] == expect
        draws.append([[loc for b in x['batches'] for s, loc in b if s == src]
                      for src in range(len(sizes))])
    for src, n in enumerate(sizes):
        half = n // 2       # one pass of the source: n / 2 draws per rank
        a, b = set(draws[0][src][:half]), set(draws[1][src][:half])
        assert len(a) == len(b) == half
        assert not a & b, f'source {src}: ranks share {a & b}'
        assert a | b == set(range(n))
        # different streams, not one stream twice
        assert draws[0][src] != draws[1][src]


# --------------------------------------------- real Runner dataloader
_PIPELINE = [dict(type='LoadPairFromFile'), dict(type='LoadPairAnnotations'),
             dict(type='PackPairInputs')]


def _source_cfg(root, **kw):
    cfg = dict(type='SyntheticWorldPairDataset', data_root=root,
               frames_per_snippet=4, labelled_index=1, pairs_per_snippet=2,
               labelled_pairs=2, max_gap=2, pipeline=_PIPELINE)
    cfg.update(kw)
    return cfg


@pytest.fixture(scope='module')
def two_worlds(tmp_path_factory):
    root = tmp_path_factory.mktemp('two_stream')
    lab = tiny_world(root / 'labelled', num_train_snippets=2,
                     num_val_snippets=0, seed=0)
    unl = tiny_world(root / 'unlabelled', num_train_snippets=3,
                     num_val_snippets=0, seed=1)
    return lab, unl


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)


def test_unlabelled_only_synthetic_source(two_worlds):
    lab, unl = two_worlds
    ds = _build(_source_cfg(unl, labelled=False))
    assert isinstance(ds, SyntheticWorldPairDataset)
    assert len(ds) == 3 * 2             # every snippet, K pairs each
    assert 'seg_map_path' not in ds.data_prefix
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['labelled'] == (False, False)
        assert info['seg_map_path'] is None is info['seg_map2_path']
    # the labelled world as a labelled source: every pair has its label
    ds = _build(_source_cfg(lab))
    assert all(any(ds.get_data_info(i)['labelled']) for i in range(len(ds)))
    with pytest.raises(ValueError, match='implies with_unlabelled'):
        SyntheticWorldPairDataset(data_root=unl, labelled=False,
                                  with_unlabelled=False,
                                  frames_per_snippet=4, labelled_index=1)


@pytest.mark.parametrize('ratio', [(2, 2), (1, 3)])
def test_runner_dataloader_labelled_ratio(two_worlds, ratio):
    from mmengine.runner import Runner
    lab, unl = two_worlds
    cfg = dict(
        batch_size=4, num_workers=0,
        sampler=dict(type='MultiSourceSampler', batch_size=4,
                     source_ratio=list(ratio)),
        dataset=dict(type='MultiSourcePairDataset', sources=[
            _source_cfg(lab), _source_cfg(unl, labelled=False)]))
    with DefaultScope.overwrite_default_scope('mmseg'):
        loader = Runner.build_dataloader(cfg, seed=0)
        assert isinstance(loader.sampler, MultiSourceSampler)
        assert loader.dataset.source_sizes == [2 * 2, 3 * 2]
        assert loader.dataset.metainfo['classes'][0] == 'road'
        n_lab = ratio[0]
        for _, batch in zip(range(4), loader):
            samples = batch['data_samples']
            assert len(samples) == 4 and len(batch['inputs']) == 4
            flags = [any(s.labelled) for s in samples]
            assert flags == [True] * n_lab + [False] * (4 - n_lab)
            for s, has in zip(samples, flags):
                pix = sum(int((f.gt_sem_seg.data != 255).sum())
                          for f in (s.frame1, s.frame2))
                assert (pix > 0) == has
        # a dataloader batch_size other than the sampler's is refused
        bad = dict(cfg, batch_size=2)
        with pytest.raises(ValueError, match='dataloader batch_size'):
            next(iter(Runner.build_dataloader(bad, seed=0)))
