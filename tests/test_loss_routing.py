"""Gradient routing of every shipped row: each named loss term reaches, by
autograd, exactly the parameter groups its modules declare (``grad_to``),
and the user tool prints the same (issue: L_cons of the TC rows used to
send zero gradient to the flow although the rows said it trained it)."""
import json
import os.path as osp

import pytest
import torch

from conftest import REPO_ROOT as REPO, load_script
from efc_mm.ablation import compose, row_names
from efc_mm.utils.loss_routing import (check_routing, random_pair_batch,
                                       term_norms)

PROTOCOL = osp.join(REPO, 'configs', 'synthetic', 'psp_efc_tiny_synthetic.py')


def _row_model(row):
    tool = load_script('tools', 'analysis_tools', 'loss_routing.py')
    model, _ = tool.build(PROTOCOL, row)
    return model


@pytest.mark.parametrize('row', row_names())
def test_every_row_reaches_what_it_declares(row):
    model = _row_model(row)
    inputs, samples = random_pair_batch(model.decode_head.num_classes,
                                        size=(64, 64))
    assert check_routing(model, inputs, samples) == []


def test_tc_rows_train_the_flow_and_default_rows_do_not():
    """The fix, measured: L_cons reaches the flow decoder in UL+TC and
    UL+OE+TC, not in the rows whose L_cons keeps the flow fixed."""
    for row, reaches_flow in (('UL+TC', True), ('UL+OE+TC', True),
                              ('full', False), ('TCC_single', False)):
        model = _row_model(row)
        inputs, samples = random_pair_batch(model.decode_head.num_classes)
        norms = term_norms(model, inputs, samples)['loss_cons']
        assert (norms['flow_decoder'] > 0) == reaches_flow, (row, norms)
        assert norms['seg_head'] > 0 and norms['occ_head'] == 0


def test_the_check_fails_when_a_term_drops_a_declared_path(monkeypatch):
    """A consistency loss that declares 'flow' but detaches it (the old
    stop_grad defect) is reported, naming the term."""
    from efc_mm.models.losses import FeatureConsistencyLoss
    real = FeatureConsistencyLoss.route

    def broken(self, x, output):
        return x.detach() if output == 'flow' else real(self, x, output)
    model = _row_model('UL+TC')
    inputs, samples = random_pair_batch(model.decode_head.num_classes)
    monkeypatch.setattr(FeatureConsistencyLoss, 'route', broken)
    problems = check_routing(model, inputs, samples)
    assert len(problems) == 1 and problems[0].startswith('loss_cons'), \
        problems
    assert 'flow_decoder' in problems[0]


@pytest.mark.slow
def test_tool_on_the_shipped_table2_and_baseline_configs(tmp_path):
    """tools/analysis_tools/loss_routing.py on the full-size Table 2 row
    UL+TC (non-zero flow_decoder norm for L_cons) and the Table 1 baseline
    (no flow term at all), through its JSON."""
    tool = load_script('tools', 'analysis_tools', 'loss_routing.py')
    out = tmp_path / 'tc.json'
    rc = tool.main([osp.join(REPO, 'configs', 'ablation', 't2_ul_tc.py'),
                    '--json', str(out), '--size', '32', '32'])
    res = json.loads(out.read_text())
    assert rc == 0 and res['mismatches'] == []
    assert res['terms']['loss_cons']['flow_decoder'] > 0
    assert set(res['terms']['loss_cons']) >= {'encoder', 'seg_head',
                                              'flow_decoder', 'occ_head'}
    out = tmp_path / 'base.json'
    assert tool.main([osp.join(REPO, 'configs', 'ablation',
                               't1_baseline_psp.py'), '--json', str(out),
                      '--size', '32', '32']) == 0
    res = json.loads(out.read_text())
    assert set(res['terms']) == {'decode.loss_ce', 'aux.loss_ce'}
    assert all('flow_decoder' not in t for t in res['terms'].values())
    torch.set_grad_enabled(True)
