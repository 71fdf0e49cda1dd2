"""DilatedVGG16's fc6 computed in output-channel chunks on the CPU
(ChunkedConv2d) equals one convolution call."""
import pytest
import torch
import torch.nn.functional as F

from efc_mm.models.backbones import DilatedVGG16
from efc_mm.models.backbones.dilated_vgg import ChunkedConv2d


@pytest.mark.parametrize('out_chunk', [1, 3, 8, 100])
def test_chunked_conv_equals_one_call(out_chunk):
    """Output and the gradients of input, weight and bias against
    ``F.conv2d`` in one call (fc6's geometry: 7x7, dilation 4, padding 12,
    on a map smaller than the dilated kernel)."""
    torch.manual_seed(0)
    conv = ChunkedConv2d(5, 8, 7, padding=12, dilation=4, out_chunk=out_chunk)
    x = torch.randn(2, 5, 6, 9, requires_grad=True)
    w = conv.weight.detach().clone().requires_grad_(True)
    b = conv.bias.detach().clone().requires_grad_(True)
    x_ref = x.detach().clone().requires_grad_(True)
    out = conv(x)
    ref = F.conv2d(x_ref, w, b, padding=12, dilation=4)
    assert out.shape == ref.shape == (2, 8, 6, 9)
    assert torch.allclose(out, ref, rtol=1e-5, atol=1e-5)
    g = torch.randn_like(ref)
    out.backward(g)
    ref.backward(g)
    assert torch.allclose(x.grad, x_ref.grad, rtol=1e-5, atol=1e-5)
    assert torch.allclose(conv.weight.grad, w.grad, rtol=1e-5, atol=1e-5)
    assert torch.allclose(conv.bias.grad, b.grad, rtol=1e-5, atol=1e-5)


def test_chunked_conv_without_bias_and_checks():
    conv = ChunkedConv2d(3, 4, 3, padding=1, bias=False, out_chunk=3)
    x = torch.randn(1, 3, 5, 5)
    assert torch.allclose(conv(x), F.conv2d(x, conv.weight, padding=1),
                          atol=1e-6)
    with pytest.raises(ValueError, match='out_chunk'):
        ChunkedConv2d(3, 4, 3, out_chunk=0)
    with pytest.raises(ValueError, match='groups=1'):
        ChunkedConv2d(4, 4, 3, groups=2)


def test_vgg_fc6_is_chunked_with_plain_state_dict_keys():
    small = dict(widths=(4, 4, 4, 4, 8), fc_channels=6)
    chunked = DilatedVGG16(fc6_cpu_chunk=4, **small).eval()
    plain = DilatedVGG16(fc6_cpu_chunk=None, **small).eval()
    assert isinstance(chunked.fc[0], ChunkedConv2d)
    assert chunked.fc[0].out_chunk == 4
    # same keys as nn.Conv2d: converted VGG-16 checkpoints load unchanged
    assert set(chunked.state_dict()) == set(plain.state_dict())
    assert 'fc.0.weight' in chunked.state_dict()
    plain.load_state_dict(chunked.state_dict())
    x = torch.randn(1, 3, 40, 48)
    (a, ), (b, ) = chunked(x), plain(x)
    assert a.shape == (1, 6, 5, 6)
    assert torch.allclose(a, b, rtol=1e-5, atol=1e-6)
