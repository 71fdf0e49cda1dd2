"""Where each loss term's gradient goes: measured by autograd, and declared.

Every EFC loss module declares which outputs its gradient flows back through
(``grad_to``: ``'seg'``, ``'target'``, ``'flow'``, ``'occ'``). This module
runs one training step of a model on a small input, differentiates every
named loss term separately with :func:`torch.autograd.grad` and reports the
gradient norm on each parameter group:

* ``encoder``: the segmentor's backbone (the shared encoder and its tail);
* ``seg_head``: decode head, auxiliary heads, neck;
* ``flow_decoder``: the flow decoder without its occlusion heads;
* ``occ_head``: the occlusion heads;
* ``flow_encoder``: the flow branch's own encoder copy, when it has one.

:func:`expected_groups` turns a module's declaration into the groups it must
reach on this architecture, and :func:`check_routing` compares the two; the
test suite runs it on every row and ``tools/analysis_tools/loss_routing.py``
prints it for any config.
"""
from typing import Dict, List, Set

import torch
from mmengine.logging import MessageHub
from torch import Tensor

__all__ = ['GROUPS', 'param_groups', 'term_norms', 'expected_groups',
           'check_routing', 'random_pair_batch']

GROUPS = ('encoder', 'seg_head', 'flow_decoder', 'occ_head', 'flow_encoder')


def param_groups(model) -> Dict[str, List[Tensor]]:
    """Trainable parameters of ``model`` by group (see module doc)."""
    groups = {g: [] for g in GROUPS}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.startswith('flow_decoder.occ_heads.'):
            groups['occ_head'].append(p)
        elif name.startswith('flow_decoder.'):
            groups['flow_decoder'].append(p)
        elif name.startswith('flow_encoder.'):
            groups['flow_encoder'].append(p)
        elif name.startswith('backbone.'):
            groups['encoder'].append(p)
        else:
            groups['seg_head'].append(p)
    return {g: ps for g, ps in groups.items() if ps}


def random_pair_batch(num_classes: int, size=(64, 64), batch: int = 2,
                      seed: int = 0):
    """Normalised random pairs ``(B, 2, 3, H, W)`` and their samples: frame
    i labelled (random classes), frame i+t unlabelled (all 255); the batch
    of :func:`efc_mm.testing.pair_batch`."""
    from ..testing import pair_batch
    h, w = size
    return pair_batch(b=batch, h=h, w=w, num_classes=num_classes,
                      labelled=(True, False), seed=seed)


def term_norms(model, inputs, data_samples, max_iters: int = 1000
               ) -> Dict[str, Dict[str, float]]:
    """``{term: {group: gradient norm}}`` of one training step, every loss
    schedule at full weight (the iteration set to ``max_iters``)."""
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', max_iters)
    hub.update_info('max_iters', max_iters)
    model.train()
    losses = model.loss(inputs, data_samples)
    groups = param_groups(model)
    flat = [(g, p) for g, ps in groups.items() for p in ps]
    out = {}
    for name, value in losses.items():
        if 'loss' not in name.split('.')[-1]:
            continue
        grads = torch.autograd.grad(value, [p for _, p in flat],
                                    retain_graph=True, allow_unused=True)
        sq = dict.fromkeys(groups, 0.0)
        for (g, _), x in zip(flat, grads):
            if x is not None:
                sq[g] += float(x.pow(2).sum())
        out[name] = {g: v**0.5 for g, v in sq.items()}
    return out


def _route_groups(model, module, route: str) -> Set[str]:
    """Groups a declared route of ``module`` reaches on ``model``."""
    flow_enc = 'flow_encoder' if model.flow_encoder is not None else 'encoder'
    if route in ('seg', 'target'):
        return ({'encoder', 'seg_head'}
                if getattr(module, 'level', 'seg') == 'seg' else {'encoder'})
    dec = model.flow_decoder
    if dec.frozen:
        return set()
    if route == 'flow':
        return {'flow_decoder', flow_enc}
    if route == 'occ':
        return ({'occ_head'} if dec.detach_occ_features else
                {'occ_head', 'flow_decoder', flow_enc})
    raise ValueError(f'unknown route {route!r}')


def expected_groups(model) -> Dict[str, Set[str]]:
    """``{term: groups}`` the model's declarations say each term reaches:
    mmseg's L_seg terms (``decode.*``, ``aux.*``) reach encoder and heads
    unless their weight is 0; every EFC loss the union of its ``grad_to``
    routes."""
    from ..models.segmentors.efc_segmentor import _seg_loss_weight
    out = {}
    heads = [('decode', model.decode_head)]
    if model.with_auxiliary_head:
        aux = model.auxiliary_head
        heads += [('aux', h) for h in (aux if isinstance(
            aux, torch.nn.ModuleList) else [aux])]
    for prefix, head in heads:
        mods = head.loss_decode
        for mod in (mods if isinstance(mods, torch.nn.ModuleList)
                    else [mods]):
            out[f'{prefix}.{mod.loss_name}'] = (
                {'encoder', 'seg_head'} if _seg_loss_weight(head) else set())
    for mod in model.efc_losses:
        out[mod.loss_name] = set().union(*[
            _route_groups(model, mod, r) for r in mod.grad_to])
    return out


def check_routing(model, inputs, data_samples, tol: float = 0.0) -> list:
    """Compare measured and declared routing; returns a list of mismatch
    messages (empty: every term reaches exactly what it declares)."""
    norms = term_norms(model, inputs, data_samples)
    want = expected_groups(model)
    problems = []
    for term, by_group in norms.items():
        got = {g for g, n in by_group.items() if n > tol}
        expect = want.get(term)
        if expect is None:
            problems.append(f'{term}: no module declares it')
        elif got != expect:
            problems.append(f'{term}: reaches {sorted(got)}, declares '
                            f'{sorted(expect)}')
    return problems
