"""bench/efc_ablation.py: schedule stretching and result collection (finished
runs, runs stopped at a deadline, mIoU by iteration) on fabricated logs."""
import json
import os
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
from conftest import load_script  # noqa: E402

bench = load_script('bench', 'efc_ablation.py')


def test_rows_come_from_their_definitions():
    """The bench reads its rows and their metrics from
    configs/_base_/ablation/ (efc_mm.ablation), not from a list of its
    own."""
    from efc_mm.ablation import load_row, row_names
    assert set(bench.PAPER_ROWS) <= set(row_names())
    assert bench.row_kind('baseline') == 'seg' == load_row('baseline')[
        'metrics']
    assert bench.row_kind('UL') == 'flow'
    assert 'paper' not in bench.all_rows()


def _fake_run(root, row, seed, iters, vals):
    wd = osp.join(bench.work_dir(root, row, seed, iters), '20260101_000000',
                  'vis_data')
    os.makedirs(wd)
    with open(osp.join(wd, 'scalars.json'), 'w') as f:
        f.write(json.dumps(dict(loss=1.0, step=1)) + '\n')
        for step, miou in vals:
            f.write(json.dumps({'mIoU': miou, 'EPE_all': 2.0,
                                'TC(flow=gt)': 80.0, 'step': step}) + '\n')


def test_collect_finished_partial_and_by_iteration(tmp_path):
    root = str(tmp_path)
    _fake_run(root, 'full', 0, 100, [(50, 40.0), (100, 50.0)])
    _fake_run(root, 'full', 1, 100, [(50, 42.0), (100, 54.0)])
    _fake_run(root, 'full', 2, 100, [(50, 44.0)])  # killed at the deadline
    res = bench.collect(['full'], [0, 1, 2], 100, root)
    row = res['rows'][0]
    assert row['seeds'] == [0, 1]
    assert row['mIoU'] == [50.0, 54.0]
    assert row['TC'] == [80.0, 80.0]
    assert row['partial']['seeds'] == [2]
    assert row['partial']['step'] == [50]
    assert row['partial']['mIoU'] == [44.0]
    assert row['mIoU_by_iter'] == {'50': [40.0, 42.0, 44.0],
                                   '100': [50.0, 54.0]}
    md = bench.markdown(res)
    # mean and sample std of 50 and 54, and of 40, 42, 44 at iteration 50
    assert '| full | 2 | 52.00 ± 2.83 |' in md
    assert '42.00 ± 2.00 (3)' in md
    assert '| full | 1 | 50 | 44.00 ± 0.00 |' in md
