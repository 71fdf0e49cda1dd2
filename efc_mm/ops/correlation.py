"""FlowNet-C correlation (cost volume), semantics of ``mmcv.ops.Correlation``.

Pure PyTorch, forward and backward (a custom autograd Function), for CPUs
and for mmcv-lite, which has no compiled ops. It is the cost volume of the
EFC flow decoder (FlowNet, Dosovitskiy et al., ICCV 2015, eq. 1) and, on
mmcv-lite, also serves as ``mmcv.ops.Correlation`` (the stand-in module of
:mod:`efc_mm.compat` imports it from here), so mmflow's ``CorrBlock`` builds
it too. Speed and peak memory: ``bench/correlation.py``, ``bench/README.md``.

This file imports only torch (no relative imports): ``efc_mm/compat.py``
loads it by path when it runs outside the package (a stock-mmseg process).
"""
from __future__ import annotations

from typing import Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.nn.modules.utils import _pair

__all__ = ['Correlation', 'correlation']


def _band_view(mat: Tensor, patch: int, out_w: int, step: int,
               stride: int) -> Tensor:
    """``(R, patch, out_w)`` view of ``mat`` ``(R, out_w, Wpp)`` (contiguous)
    with ``view[r, p, w] = mat[r, w, w * stride + p * step]``."""
    r, _, wpp = mat.shape
    return mat.as_strided((r, patch, out_w), (out_w * wpp, step, wpp + stride),
                          mat.storage_offset())


def _row_range(dy: int, stride: int, out_h: int, h2: int) -> Tuple[int, int]:
    """Output rows ``h`` with ``0 <= h * stride + dy < h2`` as ``[lo, hi)``."""
    lo = max(0, -(dy // stride)) if dy < 0 else 0
    hi = min(out_h, (h2 - 1 - dy) // stride + 1) if h2 - 1 - dy >= 0 else 0
    return lo, hi


def _row_chunks(out: Tensor, wpp: int, md_h: int, dp_h: int, sh: int,
                h2: int):
    """Yield ``(b, ph, lo, hi, dy)``: batch item, vertical displacement index
    and a chunk ``[lo, hi)`` of valid output rows for it.

    Rows are chunked so that one ``(R, W_out, Wpp)`` product stays below an
    eighth of the output (or one row), which bounds the extra memory of
    small displacement windows (where a full-height product would exceed the
    output itself).
    """
    n, ph_n, _, out_h, out_w = out.shape
    rows = max(1, min(out_h, (out.numel() // 8) // max(1, out_w * wpp)))
    for b in range(n):
        for ph in range(ph_n):
            dy = (ph - md_h) * dp_h
            lo, hi = _row_range(dy, sh, out_h, h2)
            for start in range(lo, hi, rows):
                yield b, ph, start, min(hi, start + rows), dy


class _CorrelationK1(torch.autograd.Function):
    """Kernel-1 cost volume as banded batched matrix products.

    ``out[n, ph, pw, h, w] = sum_c x1[n, c, h*sh, w*sw] *
    x2[n, c, h*sh + (ph - md_h)*dp_h, w*sw + (pw - md_w)*dp_w]`` (zero where
    the ``x2`` index leaves ``x2``; ``x1`` and ``x2`` may differ in size).

    For one vertical displacement ``ph`` all output rows are a batch: row
    ``h`` of ``x1`` as ``(W_out, C)`` times row ``h*sh + dy`` of ``x2`` as
    ``(C, W2)`` gives every horizontal pairing ``M (W_out, W2)`` with one BLAS
    call; the ``2 md_w + 1`` wanted pairings are a strided *band* of ``M``
    (zero-padded left and right so out-of-frame displacements read 0), read
    with ``as_strided`` and written straight into the preallocated output.
    Rows are processed in chunks (:func:`_row_chunks`) so that the extra
    memory beyond the output, one ``M`` chunk ``R x W_out x (W2 + 2 md_w
    dp_w)``, its padded copy and BLAS's packed operands, stays well below the
    output (bench: peak 1.25-1.34x the output at the paper's scale); never
    ``C x D^2 x H x W`` and no displacement-padded copy of the inputs.
    Backward is the transpose: scatter the gradient into the band of a zero
    ``M`` and multiply back. Only ``x1`` and ``x2`` are saved for backward.
    """

    @staticmethod
    def forward(ctx, x1, x2, md_h, md_w, dp_h, dp_w, sh, sw):
        n, c, h1, w1 = x1.shape
        h2, w2 = x2.shape[-2:]
        ph_n, pw_n = 2 * md_h + 1, 2 * md_w + 1
        out_h, out_w = (h1 - 1) // sh + 1, (w1 - 1) // sw + 1
        pad_l = md_w * dp_w
        pad_r = max(0, (out_w - 1) * sw + 2 * pad_l + 1 - w2 - pad_l)
        out = x1.new_zeros(n, ph_n, pw_n, out_h, out_w)
        for b, ph, lo, hi, dy in _row_chunks(out, pad_l + w2 + pad_r,
                                             md_h, dp_h, sh, h2):
            a_all = x1[b, :, ::sh, ::sw][:, :out_h, :out_w]  # (C, H_out, W_out)
            a = a_all[:, lo:hi].permute(1, 2, 0)  # (R, W_out, C)
            r0 = lo * sh + dy
            bm = x2[b, :, r0:r0 + (hi - lo - 1) * sh + 1:sh]  # (C, R, W2)
            m = torch.bmm(a, bm.permute(1, 0, 2))  # (R, W_out, W2)
            m = F.pad(m, (pad_l, pad_r))
            band = _band_view(m, pw_n, out_w, dp_w, sw)  # (R, Pw, W_out)
            out[b, ph, :, lo:hi].copy_(band.transpose(0, 1))
        ctx.save_for_backward(x1, x2)
        ctx.args = (md_h, md_w, dp_h, dp_w, sh, sw)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        x1, x2 = ctx.saved_tensors
        md_h, md_w, dp_h, dp_w, sh, sw = ctx.args
        n, c, h1, w1 = x1.shape
        h2, w2 = x2.shape[-2:]
        pw_n = 2 * md_w + 1
        out_w = (w1 - 1) // sw + 1
        pad_l = md_w * dp_w
        pad_r = max(0, (out_w - 1) * sw + 2 * pad_l + 1 - w2 - pad_l)
        need1, need2 = ctx.needs_input_grad[:2]
        g1 = torch.zeros_like(x1) if need1 else None
        g2 = torch.zeros_like(x2) if need2 else None
        for b, ph, lo, hi, dy in _row_chunks(grad_out, pad_l + w2 + pad_r,
                                             md_h, dp_h, sh, h2):
            r0 = lo * sh + dy
            rows2 = slice(r0, r0 + (hi - lo - 1) * sh + 1, sh)
            gm = grad_out.new_zeros(hi - lo, out_w, pad_l + w2 + pad_r)
            _band_view(gm, pw_n, out_w, dp_w, sw).copy_(
                grad_out[b, ph, :, lo:hi].transpose(0, 1))
            gm = gm[:, :, pad_l:pad_l + w2]  # (R, W_out, W2)
            if need1:  # dA = G @ B^T -> (R, W_out, C)
                bm = x2[b, :, rows2].permute(1, 2, 0)  # (R, W2, C)
                g1[b, :, lo * sh:(hi - 1) * sh + 1:sh, :(out_w - 1) * sw + 1:sw] \
                    .add_(torch.bmm(gm, bm).permute(2, 0, 1))
            if need2:  # dB = A^T @ G -> (R, C, W2)
                a = x1[b, :, lo * sh:(hi - 1) * sh + 1:sh,
                       :(out_w - 1) * sw + 1:sw].permute(1, 0, 2)
                g2[b, :, rows2].add_(torch.bmm(a, gm).permute(1, 0, 2))
        return g1, g2, None, None, None, None, None, None


def correlation(input1: Tensor,
                input2: Tensor,
                kernel_size: Union[int, Tuple[int, int]] = 1,
                max_displacement: int = 1,
                stride: Union[int, Tuple[int, int]] = 1,
                padding: Union[int, Tuple[int, int]] = 0,
                dilation: Union[int, Tuple[int, int]] = 1,
                dilation_patch: Union[int, Tuple[int, int]] = 1) -> Tensor:
    r"""FlowNet-C correlation with the exact semantics of ``mmcv.ops.Correlation``.

    For every output position ``(h, w)`` and displacement index ``(ph, pw)``::

        out[n, ph, pw, h, w] = sum_{c, i < kH, j < kW}
            input1[n, c, h1, w1] * input2[n, c, h1 + dy, w1 + dx]

    with ``h1 = h * strideH - padH + i * dilationH`` (likewise ``w1``),
    ``dy = (ph - max_displacement) * dilation_patchH`` (likewise ``dx``), and
    out-of-bounds samples of either input counting as zero. This is the cost
    volume of FlowNet (Dosovitskiy et al., ICCV 2015, eq. 1) used by the EFC
    flow decoder. No normalisation is applied (divide by ``C`` yourself).

    Implementation (see :class:`_CorrelationK1`): per vertical displacement,
    one batched matrix product over the output rows (BLAS does the channel
    sums of all horizontal pairings at once), then the wanted displacements
    are read as a strided band and written into a preallocated output. A
    custom autograd Function computes both input gradients the same way and
    saves only the inputs. Nothing of size ``C x D^2 x H x W`` is
    materialised and the inputs are not copied-and-padded by the
    displacement: peak memory is the output plus one row chunk of products
    (see ``bench/README.md`` for measured peaks).
    ``kernel_size > 1`` computes the kernel-1 volume on the padded window of
    ``input1`` and box-sums it with a strided, dilated ``conv2d`` (larger
    intermediate, rare in practice). Double backward is
    not supported (as in mmcv).

    Args:
        input1, input2 (Tensor): ``(N, C, H, W)`` feature maps of the same shape.
        kernel_size, max_displacement, stride, padding, dilation,
        dilation_patch: as in ``mmcv.ops.Correlation``.

    Returns:
        Tensor: ``(N, 2d+1, 2d+1, H_out, W_out)``.
    """
    if not (isinstance(input1, Tensor) and isinstance(input2, Tensor)) or \
            input1.dim() != 4 or input1.shape != input2.shape:
        raise ValueError(
            'correlation expects two (N, C, H, W) tensors of the same shape, '
            f'got {tuple(getattr(input1, "shape", ()))} and '
            f'{tuple(getattr(input2, "shape", ()))}')
    if input1.device != input2.device or input1.dtype != input2.dtype:
        raise ValueError('correlation inputs must share device and dtype, got '
                         f'{input1.device}/{input1.dtype} and '
                         f'{input2.device}/{input2.dtype}')
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride)
    pad_h, pad_w = _pair(padding)
    dil_h, dil_w = _pair(dilation)
    dp_h, dp_w = _pair(dilation_patch)
    if min(kh, kw, sh, sw, dil_h, dil_w, dp_h, dp_w) < 1 or \
            min(pad_h, pad_w) < 0 or int(max_displacement) != max_displacement \
            or max_displacement < 0:
        raise ValueError(
            'correlation: kernel_size, stride, dilation and dilation_patch must '
            'be >= 1, padding and max_displacement integers >= 0; got '
            f'kernel_size={kernel_size}, stride={stride}, padding={padding}, '
            f'dilation={dilation}, dilation_patch={dilation_patch}, '
            f'max_displacement={max_displacement}')
    md = int(max_displacement)
    n, _, h, w = input1.shape
    patch = 2 * md + 1
    out_h = (h + 2 * pad_h - dil_h * (kh - 1) - 1) // sh + 1
    out_w = (w + 2 * pad_w - dil_w * (kw - 1) - 1) // sw + 1
    if out_h <= 0 or out_w <= 0:
        raise ValueError(f'correlation output would be empty: input {h}x{w}, '
                         f'kernel {kh}x{kw}, padding {pad_h}x{pad_w}')
    # window extent (in padded input1 coordinates) actually read
    ext_h = (out_h - 1) * sh + dil_h * (kh - 1) + 1
    ext_w = (out_w - 1) * sw + dil_w * (kw - 1) + 1
    x1, x2 = input1, input2
    if pad_h or pad_w:
        x1 = F.pad(input1, (pad_w, pad_w, pad_h, pad_h))
        x2 = F.pad(input2, (pad_w, pad_w, pad_h, pad_h))
    x1 = x1[:, :, :ext_h, :ext_w]
    if kh == 1 and kw == 1:
        out = _CorrelationK1.apply(x1, x2, md, md, dp_h, dp_w, sh, sw)
        return out[:, :, :, :out_h, :out_w]
    dense = _CorrelationK1.apply(x1, x2, md, md, dp_h, dp_w, 1, 1)
    box = input1.new_ones(1, 1, kh, kw)
    out = F.conv2d(dense.reshape(n * patch * patch, 1, ext_h, ext_w), box,
                   stride=(sh, sw), dilation=(dil_h, dil_w))
    return out.view(n, patch, patch, out_h, out_w)


class Correlation(nn.Module):
    """Pure-PyTorch stand-in for ``mmcv.ops.Correlation`` (same constructor
    arguments, same ``(N, P, P, H_out, W_out)`` output). See :func:`correlation`.
    """

    def __init__(self,
                 kernel_size: int = 1,
                 max_displacement: int = 1,
                 stride: int = 1,
                 padding: int = 0,
                 dilation: int = 1,
                 dilation_patch: int = 1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.max_displacement = max_displacement
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.dilation_patch = dilation_patch

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return correlation(input1, input2, self.kernel_size,
                           self.max_displacement, self.stride, self.padding,
                           self.dilation, self.dilation_patch)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(kernel_size={self.kernel_size}, '
                f'max_displacement={self.max_displacement}, '
                f'stride={self.stride}, padding={self.padding}, '
                f'dilation={self.dilation}, '
                f'dilation_patch={self.dilation_patch})')
