"""The pair context (efc_mm/structures/pair_context.py) and the decoder's
cost volume: what one step computes is computed once, and mmflow's
CorrBlock gives the same cost volume as the pure-PyTorch correlation."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope

import efc_mm  # noqa: F401
from efc_mm.registry import MODELS
from efc_mm.structures import (PairContext, flow_to_level_pixels,
                               frames_to_pair, pair_to_frames, swap_pair)
from efc_mm.testing import pair_batch, tiny_model_cfg

init_default_scope('mmseg')


def test_pair_layout_helpers_by_hand():
    x = torch.arange(2 * 2 * 3 * 1 * 1, dtype=torch.float).view(2, 2, 3, 1, 1)
    frames = pair_to_frames(x)
    # all frames i (pair 0, pair 1), then all frames i+t
    assert torch.equal(frames[1], x[1, 0]) and torch.equal(frames[2], x[0, 1])
    assert torch.equal(frames_to_pair(frames), x)
    assert torch.equal(swap_pair(frames)[0], x[0, 1])
    with pytest.raises(ValueError, match='even'):
        swap_pair(torch.zeros(3, 1))
    with pytest.raises(ValueError, match='3 channels'):
        pair_to_frames(torch.zeros(1, 2, 4, 2, 2))
    flow = torch.ones(1, 2, 4, 8)
    lvl = flow_to_level_pixels(flow, (16, 16))  # u * 8/16, v * 4/16
    assert lvl[0, 0, 0, 0] == 0.5 and lvl[0, 1, 0, 0] == 0.25


def test_one_step_runs_the_seg_tail_and_the_flow_decoder_once(monkeypatch):
    """Every loss reads the context: the decode head and the flow decoder
    run once per step however many losses read their outputs (L_seg, L_pm
    with O_error, L_cons on the seg output, L_occ, L_sm)."""
    model = MODELS.build(ConfigDict(tiny_model_cfg('psp')))
    calls = dict(seg=0, flow=0)
    seg, flow = model.decode_head.forward, model.flow_decoder.forward

    def count(key, fn):
        def wrapped(*a, **k):
            calls[key] += 1
            return fn(*a, **k)
        return wrapped
    monkeypatch.setattr(model.decode_head, 'forward', count('seg', seg))
    monkeypatch.setattr(model.flow_decoder, 'forward', count('flow', flow))
    inputs, samples = pair_batch(b=1)
    losses = model.loss(inputs, samples)
    assert {'decode.loss_ce', 'loss_pm', 'loss_sm', 'loss_occ',
            'loss_cons'} <= set(losses)
    assert calls == dict(seg=1, flow=1)


def test_context_caches_and_refuses_a_missing_flow():
    imgs = torch.rand(2, 3, 8, 8)
    ctx = PairContext(imgs, imgs, [], [True, False],
                      seg_fn=lambda s: (None, torch.zeros(2, 3, 8, 8)))
    assert ctx.seg_logits is ctx.seg_logits
    assert ctx.images_at((4, 4)) is ctx.images_at((4, 4))
    assert ctx.labelled_mask().flatten().tolist() == [1.0, 0.0]
    with pytest.raises(RuntimeError, match='no flow branch'):
        ctx.flow_out
    with pytest.raises(ValueError, match='labelled'):
        PairContext(imgs, imgs, [], [True], seg_fn=None)


def test_cost_volume_corrblock_equals_pytorch_correlation():
    """mmflow's CorrBlock (mmcv's Correlation; on mmcv-lite the package's
    stand-in) and the pure-PyTorch banded correlation give the same
    activated, scaled cost volume; 'auto' takes PyTorch on the CPU."""
    from efc_mm.models.flow_decoders import CostVolume
    cv = CostVolume(8, 8, max_displacement=3, dilation_patch=2,
                    redir_channels=4, out_channels=8)
    g = torch.Generator().manual_seed(0)
    p1, p2 = torch.randn(2, 8, 9, 11, generator=g), torch.randn(
        2, 8, 9, 11, generator=g)
    ref = cv.cost(p1, p2, backend='torch')
    assert ref.shape == (2, 49, 9, 11)
    torch.testing.assert_close(cv.cost(p1, p2, backend='mmflow'), ref)
    torch.testing.assert_close(cv.cost(p1, p2), ref)
    # one entry by the FlowNet formula: displacement (dy, dx) = (2, -4)
    dy, dx, y, x = 2, -4, 3, 6
    k = ((dy // 2) + 3) * 7 + (dx // 2) + 3
    raw = (p1[0, :, y, x] * p2[0, :, y + dy, x + dx]).sum() / 8
    torch.testing.assert_close(ref[0, k, y, x],
                               torch.nn.functional.leaky_relu(raw, 0.1))
    with pytest.raises(ValueError, match='backend'):
        cv.cost(p1, p2, backend='cuda')
