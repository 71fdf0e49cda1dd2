"""OutputConsistencyLoss (issue 18): each divergence against a direct
computation, the confidence and occlusion masks, the bad-argument errors,
and the routing check in a model (the target and the flow get no gradient
by default, the segmentation does)."""
import pytest
import torch
import torch.nn.functional as F

from efc_mm.models.losses import OutputConsistencyLoss
from efc_mm.utils.loss_routing import (check_routing, random_pair_batch,
                                       term_norms)

from conftest import REPO_ROOT  # noqa: E402

D = torch.float64


def _maps(seed=0, n=2, c=5, h=4, w=3):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, c, h, w, generator=g, dtype=D)
    zt = 2 * torch.randn(n, c, h, w, generator=g, dtype=D)
    occ = torch.rand(n, 1, h, w, generator=g, dtype=D)
    valid = (torch.rand(n, 1, h, w, generator=g, dtype=D) > 0.3).to(D)
    return z, zt, occ, valid


def _masked_mean(per_pixel, occ, valid):
    return (per_pixel * (1 - occ) * valid).sum() / valid.sum()


def test_kl_matches_torch_kl_div():
    z, zt, occ, valid = _maps()
    for t in (1.0, 2.0):
        loss = OutputConsistencyLoss(loss_weight=0.3, weight_schedule=None,
                                     temperature=t)
        per = F.kl_div(F.log_softmax(z / t, 1), F.softmax(zt / t, 1),
                       reduction='none').sum(1, keepdim=True)
        torch.testing.assert_close(loss.compute(z, zt, occ, valid),
                                   0.3 * _masked_mean(per, occ, valid))


def test_ce_is_cross_entropy_to_the_argmax_pseudo_label():
    z, zt, occ, valid = _maps(1)
    loss = OutputConsistencyLoss(loss_weight=1.0, divergence='ce',
                                 weight_schedule=None)
    per = torch.zeros_like(valid)
    for n in range(z.shape[0]):
        for i in range(z.shape[2]):
            for j in range(z.shape[3]):
                k = int(zt[n, :, i, j].argmax())
                per[n, 0, i, j] = -torch.log_softmax(z[n, :, i, j], 0)[k]
    torch.testing.assert_close(loss.compute(z, zt, occ, valid),
                               _masked_mean(per, occ, valid))


def test_logit_mse_and_zero_at_agreement():
    z, zt, occ, valid = _maps(2)
    loss = OutputConsistencyLoss(loss_weight=1.0, divergence='logit_mse',
                                 weight_schedule=None)
    per = ((z - zt) ** 2).mean(1, keepdim=True)
    torch.testing.assert_close(loss.compute(z, zt, occ, valid),
                               _masked_mean(per, occ, valid))
    for div in ('kl', 'logit_mse'):
        same = OutputConsistencyLoss(divergence=div, weight_schedule=None)
        assert float(same.compute(z, z.clone())) == pytest.approx(0, abs=1e-12)


def test_confidence_mask_keeps_only_confident_targets():
    z, zt, _, _ = _maps(3)
    conf = F.softmax(zt, 1).amax(1, keepdim=True)
    thr = float(conf.median())
    loss = OutputConsistencyLoss(loss_weight=1.0, confidence=thr,
                                 occlusion_mask=False, weight_schedule=None)
    per = F.kl_div(F.log_softmax(z, 1), F.softmax(zt, 1),
                   reduction='none').sum(1, keepdim=True)
    keep = (conf >= thr).to(D)
    assert 0 < keep.sum() < keep.numel()
    torch.testing.assert_close(loss.compute(z, zt),
                               (per * keep).sum() / keep.sum())


def test_gradient_reaches_the_frame_not_the_target_mask():
    z, zt, occ, valid = _maps(4)
    z.requires_grad_()
    occ.requires_grad_()
    loss = OutputConsistencyLoss(loss_weight=1.0, weight_schedule=None,
                                 confidence=0.2)
    g_z, g_occ = torch.autograd.grad(loss.compute(z, zt, occ, valid),
                                     (z, occ), allow_unused=True)
    assert g_occ is None and g_z.abs().sum() > 0
    assert torch.autograd.gradcheck(
        lambda a: loss.compute(a, zt, occ.detach(), valid), (z, ))


@pytest.mark.parametrize('kwargs,field', [
    (dict(divergence='js'), 'divergence'),
    (dict(confidence=1.0), 'confidence'),
    (dict(confidence=-0.1), 'confidence'),
    (dict(temperature=0), 'temperature'),
    (dict(grad_to=('occ', )), 'grad_to'),
])
def test_bad_arguments(kwargs, field):
    with pytest.raises(ValueError, match=field):
        OutputConsistencyLoss(**kwargs)


def test_in_a_model_routing_and_a_training_step():
    """In the synthetic protocol's model, in place of L_cons: it reaches
    the segmentation (head and encoder), not the flow or occlusion heads
    (the declared routing, checked by efc_mm.utils.loss_routing)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    from efc_mm.utils.cli import local_model_cfg
    cfg = f'{REPO_ROOT}/configs/synthetic/psp_efc_tiny_synthetic.py'
    m = local_model_cfg(Config.fromfile(cfg).model.to_dict())
    m['losses'] = dict(consistency=dict(type='OutputConsistencyLoss',
                                        confidence=0.1))
    model = MODELS.build(m)
    inputs, samples = random_pair_batch(model.decode_head.num_classes,
                                        size=(64, 64))
    assert check_routing(model, inputs, samples) == []
    norms = term_norms(model, inputs, samples)['loss_cons']
    assert norms['seg_head'] > 0
    assert norms['flow_decoder'] == 0 and norms['occ_head'] == 0
