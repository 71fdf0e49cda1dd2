"""The compat layer: mmcv.ops stand-in, checkpoints on torch>=2.6, CPU DDP."""
import importlib
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import efc_mm  # noqa: F401  (applies the patches)
from efc_mm import compat


def test_mmseg_and_mmflow_models_import_on_mmcv_lite():
    import mmflow.models  # noqa: F401
    import mmseg.models  # noqa: F401
    import mmcv.ops
    from mmflow.models.builder import OPERATORS
    if compat.MMCV_OPS_IS_STANDIN:
        assert getattr(mmcv.ops, 'EFC_MM_STANDIN', False)
        assert OPERATORS.get('Correlation') is compat.Correlation


def test_mmflow_corr_block_runs_on_standin():
    """mmflow's own CorrBlock builds our Correlation and runs it."""
    from mmengine.registry import DefaultScope, init_default_scope
    from mmflow.models.utils.correlation_block import CorrBlock
    init_default_scope('mmseg')  # as other tests leave it; mmflow runs in
    with DefaultScope.overwrite_default_scope('mmflow'):  # its own scope
        block = CorrBlock(
            corr_cfg=dict(type='Correlation', max_displacement=2),
            scaled=True)
    f1, f2 = torch.randn(2, 1, 4, 6, 7).unbind(0)
    out = block(f1, f2)
    assert out.shape == (1, 25, 6, 7)
    # centre channel (zero displacement) = leaky_relu(mean_c f1 * f2)
    expected = F.leaky_relu((f1 * f2).sum(1) / 4, 0.1)
    torch.testing.assert_close(out[:, 12], expected)


def test_correlation_constructor_and_shape_match_mmcv_docs():
    """Output (N, 2d+1, 2d+1, H_out, W_out), H_out from mmcv's formula."""
    corr = compat.Correlation(kernel_size=3, max_displacement=2, stride=2,
                              padding=1, dilation=1, dilation_patch=2)
    x1, x2 = torch.randn(2, 2, 3, 9, 11).unbind(0)
    out = corr(x1, x2)
    h_out = (9 + 2 * 1 - 1 * (3 - 1) - 1) // 2 + 1
    w_out = (11 + 2 * 1 - 1 * (3 - 1) - 1) // 2 + 1
    assert out.shape == (2, 5, 5, h_out, w_out)
    assert 'max_displacement=2' in repr(corr)


def test_correlation_matches_direct_loop_small():
    """A direct transcription of mmcv's CUDA kernel loop (see also
    tests/test_ops.py for more argument combinations and gradients)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1, 2, 5, 6))
    b = rng.standard_normal((1, 2, 5, 6))
    md, k, s, p, dil, dp = 1, 3, 1, 1, 1, 2
    out = compat.correlation(torch.from_numpy(a), torch.from_numpy(b), k, md,
                             s, p, dil, dp).numpy()
    _, c, h, w = a.shape
    oh = (h + 2 * p - dil * (k - 1) - 1) // s + 1
    ow = (w + 2 * p - dil * (k - 1) - 1) // s + 1
    ref = np.zeros((1, 2 * md + 1, 2 * md + 1, oh, ow))
    for ph in range(2 * md + 1):
        for pw in range(2 * md + 1):
            for y in range(oh):
                for x in range(ow):
                    acc = 0.0
                    for i in range(k):
                        for j in range(k):
                            y1 = y * s - p + i * dil
                            x1 = x * s - p + j * dil
                            y2 = y1 + (ph - md) * dp
                            x2 = x1 + (pw - md) * dp
                            if 0 <= y1 < h and 0 <= x1 < w and \
                                    0 <= y2 < h and 0 <= x2 < w:
                                acc += (a[0, :, y1, x1] * b[0, :, y2, x2]).sum()
                    ref[0, ph, pw, y, x] = acc
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)


def test_point_sample_is_real():
    from mmcv.ops import point_sample
    feat = torch.arange(16.).view(1, 1, 4, 4)
    # normalised (x, y) of pixel centres (1, 2) and (3, 0)
    pts = torch.tensor([[[1.5 / 4, 2.5 / 4], [3.5 / 4, 0.5 / 4]]])
    out = point_sample(feat, pts, align_corners=False)
    assert out.shape == (1, 1, 2)
    torch.testing.assert_close(out[0, 0], torch.tensor([2 * 4 + 1., 3.]))


@pytest.mark.skipif(not compat.MMCV_OPS_IS_STANDIN,
                    reason='full mmcv is installed: the stand-in is not used')
def test_missing_ops_raise_clear_error():
    from mmcv.ops import DeformConv2d, sigmoid_focal_loss
    with pytest.raises(RuntimeError, match='full mmcv'):
        sigmoid_focal_loss(torch.zeros(1), torch.zeros(1))
    with pytest.raises(RuntimeError, match='DeformConv2d.*full mmcv'):
        DeformConv2d(1, 1, 3)


def test_standin_steps_aside_when_real_ops_import(monkeypatch):
    """With full mmcv (mmcv.ops imports), nothing is replaced."""
    real_import = importlib.import_module
    fake = type(sys)('mmcv.ops')

    def fake_import(name, *args, **kwargs):
        if name == 'mmcv.ops':
            return fake
        return real_import(name, *args, **kwargs)

    saved = sys.modules.pop('mmcv.ops')
    monkeypatch.setattr(importlib, 'import_module', fake_import)
    try:
        assert compat.install_mmcv_ops_standin() is False
        assert 'mmcv.ops' not in sys.modules
    finally:
        sys.modules['mmcv.ops'] = saved


def test_checkpoint_with_history_buffer_round_trip(tmp_path):
    """mmengine checkpoints pickle HistoryBuffer; torch>=2.6 refuses them
    with weights_only=True. Our loader must read them back intact."""
    from mmengine.logging import HistoryBuffer, MessageHub
    from mmengine.runner.checkpoint import (_load_checkpoint,
                                            load_checkpoint, save_checkpoint)
    model = torch.nn.Conv2d(1, 2, 3)
    hub = MessageHub.get_instance('efc_compat_test')
    hub.update_scalar('train/loss', 0.5)
    ckpt = {'state_dict': model.state_dict(),
            'message_hub': hub.state_dict(),
            'meta': {'iter': 7, 'np_value': np.float64(1.25)}}
    path = tmp_path / 'iter_7.pth'
    save_checkpoint(ckpt, str(path))
    with pytest.raises(Exception):
        torch.load(str(path), weights_only=True)  # the upstream failure
    loaded = _load_checkpoint(str(path), map_location='cpu')
    assert loaded['meta']['iter'] == 7
    assert isinstance(loaded['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    other = torch.nn.Conv2d(1, 2, 3)
    load_checkpoint(other, str(path), map_location='cpu')
    torch.testing.assert_close(other.weight, model.weight)


def test_missing_checkpoint_names_the_file(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(str(tmp_path / 'nope.pth'))


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only patch')
def test_cpu_distributed_patch_installed():
    from mmengine.dist import utils as dist_utils
    assert getattr(dist_utils._init_dist_pytorch, '_efc_mm_patched', False)
    with pytest.raises(ValueError, match='needs CUDA'):
        dist_utils._init_dist_pytorch('nccl', init_backend='deepspeed')
