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


# -- feature perturbation (UniMatch-style student) and the no-flow control --
def _fp_ctx(feats, labelled=None, head=None):
    """A PairContext whose segmentation features are ``feats`` (a tuple of
    one map) and whose decode head is ``head`` (default: a fixed 1x1 conv,
    float64); no flow branch."""
    from efc_mm.structures import PairContext
    n = feats[0].shape[0]
    if head is None:
        g = torch.Generator().manual_seed(5)
        wgt = torch.randn(4, feats[0].shape[1], 1, 1, generator=g, dtype=D)

        def head(x):
            return F.conv2d(x[-1], wgt)
    imgs = torch.rand(n, 3, 8, 8, dtype=D)
    return PairContext(imgs, imgs, [], labelled or [False] * n,
                       seg_fn=lambda sh: (feats, head(feats)), head_fn=head)


def test_perturbed_seg_logits_is_the_head_on_dropped_out_features():
    feats = (torch.rand(4, 64, 5, 5, dtype=D) + 0.5, )
    ctx = _fp_ctx(feats, head=lambda x: x[-1])  # identity head
    torch.manual_seed(0)
    out = ctx.perturbed_seg_logits(0.5)
    assert out is ctx.perturbed_seg_logits(0.5)  # once per step
    # Dropout2d: whole channels are zero, the others scaled by 1 / (1 - p)
    zero = (out == 0).flatten(2).all(-1)
    kept = ~zero
    assert 0.3 < float(zero.to(D).mean()) < 0.7
    torch.testing.assert_close(out[kept.unsqueeze(-1).unsqueeze(-1)
                                   .expand_as(out)],
                               2 * feats[0][kept.unsqueeze(-1).unsqueeze(-1)
                                            .expand_as(out)])
    with pytest.raises(ValueError, match='dropout rate'):
        ctx.perturbed_seg_logits(1.0)
    from efc_mm.structures import PairContext
    bare = PairContext(feats[0][:, :3], feats[0][:, :3], [], [False] * 4,
                       seg_fn=lambda sh: (feats, None))
    with pytest.raises(RuntimeError, match='head_fn'):
        bare.perturbed_seg_logits(0.5)


def test_self_target_is_ce_of_the_perturbed_decode_to_the_clean_argmax():
    feats = (torch.randn(4, 8, 3, 3, dtype=D, requires_grad=True), )
    ctx = _fp_ctx(feats, labelled=[True, False, False, False])
    loss = OutputConsistencyLoss(loss_weight=0.7, divergence='ce',
                                 feature_dropout=0.5, target='self',
                                 occlusion_mask=False, weight_schedule=None,
                                 frames='unlabelled')
    torch.manual_seed(3)
    value = loss(ctx)['loss_cons']
    student = ctx.perturbed_seg_logits(0.5)   # the cached draw the loss used
    clean = ctx.seg_logits
    assert not torch.equal(student, clean)
    per = F.cross_entropy(student, clean.argmax(1), reduction='none')
    # both halves of the batch (frames 0-1 and 2-3), labelled frame 0 left
    # out: half 1 is frame 1 alone, half 2 the mean of frames 2 and 3
    expect = 0.7 * (per[1].mean() + per[2:].mean())
    torch.testing.assert_close(value, expect)
    # the target is a constant: the gradient is the student's alone
    g_loss, = torch.autograd.grad(value, feats[0], retain_graph=True)
    g_direct, = torch.autograd.grad(
        0.7 * (F.cross_entropy(student[1:2], clean[1:2].argmax(1).detach())
               + F.cross_entropy(student[2:], clean[2:].argmax(1).detach())),
        feats[0])
    torch.testing.assert_close(g_loss, g_direct)


def test_feature_dropout_and_target_arguments_are_checked():
    with pytest.raises(ValueError, match='feature_dropout'):
        OutputConsistencyLoss(feature_dropout=1.0)
    with pytest.raises(ValueError, match='target'):
        OutputConsistencyLoss(target='partner_of_partner')
    with pytest.raises(ValueError, match="target='self'"):
        OutputConsistencyLoss(target='self', occlusion_mask=False)
    with pytest.raises(ValueError, match="target='self'"):
        OutputConsistencyLoss(target='self', feature_dropout=0.5)


def test_fp_configs_build_and_route_gradient_to_the_segmentation():
    """The issue 18 configs: EFC + warped-partner pseudo-labels on a
    perturbed decode, and its no-flow control; one training loss each on
    a tiny batch, the consistency term present and differentiable into the
    decode head."""
    from mmengine.config import Config
    from mmengine.logging import MessageHub
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 900)
    hub.update_info('max_iters', 1000)
    from efc_mm.testing import sync_bn_to_bn
    for name, with_flow in (('psp_efc_fp_tiny_headroom', True),
                            ('psp_seg_fp_tiny_headroom', False)):
        cfg = Config.fromfile(
            f'{REPO_ROOT}/configs/synthetic_headroom/{name}.py')
        cfg.model.losses.consistency.confidence = 0.0  # every pixel
        model = MODELS.build(sync_bn_to_bn(cfg.model.to_dict()))
        model.train()
        assert model.with_flow is with_flow
        inputs, samples = random_pair_batch(19, (64, 64))
        losses = model.loss(inputs, samples)
        assert float(losses['loss_cons']) > 0
        model.zero_grad()
        losses['loss_cons'].backward()
        w = model.decode_head.conv_seg.weight.grad
        assert w is not None and float(w.abs().sum()) > 0
