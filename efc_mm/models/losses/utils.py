"""Shared helpers of the EFC losses: input checks and the valid-pixel mean."""
from __future__ import annotations

from typing import Optional, Sequence

from torch import Tensor, nn


def check_map(t: Tensor, name: str, ref: Tensor,
              channels: Optional[int] = None) -> None:
    """Raise :class:`ValueError` unless ``t`` is ``(N, C, H, W)`` with the
    batch and spatial size of ``ref`` (and ``channels`` channels if given)."""
    if not isinstance(t, Tensor) or t.dim() != 4:
        raise ValueError(f'{name} must be a (N, C, H, W) Tensor, got '
                         f'{tuple(t.shape) if isinstance(t, Tensor) else t!r}')
    if t.shape[0] != ref.shape[0] or t.shape[2:] != ref.shape[2:]:
        raise ValueError(f'{name} {tuple(t.shape)} must match batch and '
                         f'spatial size of {tuple(ref.shape)}')
    if channels is not None and t.shape[1] != channels:
        raise ValueError(f'{name} must have {channels} channel(s), got '
                         f'{tuple(t.shape)}')


def check_same(a: Tensor, b: Tensor, names: Sequence[str]) -> None:
    """Raise :class:`ValueError` unless ``a`` and ``b`` are 4-D, same shape."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)) or a.dim() != 4 \
            or a.shape != b.shape:
        raise ValueError(f'{names[0]} and {names[1]} must be (N, C, H, W) '
                         'Tensors of the same shape, got '
                         f'{tuple(getattr(a, "shape", ()))} and '
                         f'{tuple(getattr(b, "shape", ()))}')


def valid_mean(value: Tensor, valid: Optional[Tensor] = None) -> Tensor:
    """Mean of a per-pixel map ``value`` ``(N, 1, H, W)`` over valid pixels.

    **decision** (EFC_METHOD.md): the paper's pixel sums are means over the
    valid pixels, so the loss weights mean the same at any crop size.
    ``valid`` (``(N, 1, H, W)``, {0, 1} or soft weights) is treated as a
    constant. With no valid pixel at all the result is a zero that keeps the
    graph, never NaN (the denominator is clamped at 1e-6, which also avoids
    a host-device synchronisation).
    """
    if valid is None:
        return value.mean()
    valid = valid.detach().to(value.dtype)
    return (value * valid).sum() / valid.sum().clamp(min=1e-6)


class BaseEFCLoss(nn.Module):
    """What every EFC loss module shares: ``loss_weight`` and a
    ``loss_name`` (the key in the loss dict, which mmengine logs and sums
    only if it starts with ``loss_``)."""

    def __init__(self, loss_weight: float, loss_name: str) -> None:
        super().__init__()
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_': {loss_name}")
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """Key of this loss in the loss dict (starts with ``loss_``)."""
        return self._loss_name
