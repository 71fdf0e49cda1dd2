"""Shared helpers of the EFC losses: input checks, the valid-pixel mean,
per-level weights and the loss-weight schedule."""
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
    """What every EFC loss module shares.

    Args:
        loss_weight (float): weight of the loss in the total (the paper's
            lambda).
        loss_name (str): key in the loss dict; mmengine logs and sums only
            keys that start with ``loss_``.
        level_weights (Sequence[float] | None): for losses applied on several
            decoder levels: one weight per level, **coarse to fine** as the
            flow decoder returns them; ``0`` skips a level. None: every level
            weighs 1 (the paper sums over all scales). The owner (the flow
            decoder) checks the length against its number of levels when it
            is built.
        weight_schedule (dict | None): ``dict(begin=B, end=E)``: the weight
            is 0 before iteration ``B``, ramps linearly to ``loss_weight`` at
            ``E`` and stays there (``E == B``: a step). The iteration is the
            runner's iteration (:meth:`set_iteration`, called by
            :class:`EFCSegmentor` before every training step with the
            iteration mmengine publishes in its MessageHub, so a resumed run
            continues the schedule; outside a runner, the number of training
            steps the model has taken). None: always ``loss_weight``.
    """

    def __init__(self, loss_weight: float, loss_name: str,
                 level_weights: Optional[Sequence[float]] = None,
                 weight_schedule: Optional[dict] = None) -> None:
        super().__init__()
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_': {loss_name}")
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name
        if level_weights is not None:
            level_weights = [float(w) for w in level_weights]
            if not level_weights or any(w < 0 for w in level_weights):
                raise ValueError(f'{type(self).__name__}: level_weights must '
                                 'be a non-empty list of weights >= 0, got '
                                 f'{level_weights}')
        self.level_weights = level_weights
        if weight_schedule is not None:
            unknown = set(weight_schedule) - {'begin', 'end'}
            begin = weight_schedule.get('begin', 0)
            end = weight_schedule.get('end', begin)
            if unknown or not 0 <= begin <= end:
                raise ValueError(
                    f'{type(self).__name__}: weight_schedule must be '
                    f'dict(begin=B, end=E) with 0 <= B <= E, got '
                    f'{dict(weight_schedule)}')
            weight_schedule = dict(begin=int(begin), end=int(end))
        self.weight_schedule = weight_schedule
        self.iteration = 0

    @property
    def loss_name(self) -> str:
        """Key of this loss in the loss dict (starts with ``loss_``)."""
        return self._loss_name

    def set_iteration(self, iteration: int) -> None:
        """Tell the loss the current training iteration (for the schedule)."""
        self.iteration = int(iteration)

    @property
    def current_weight(self) -> float:
        """``loss_weight`` times the schedule's factor at :attr:`iteration`
        (linear ramp from 0 at ``begin`` to 1 at ``end``)."""
        s = self.weight_schedule
        if s is None:
            return self.loss_weight
        if self.iteration < s['begin']:
            return 0.0
        if self.iteration >= s['end']:
            return self.loss_weight
        return self.loss_weight * (self.iteration - s['begin']) / (
            s['end'] - s['begin'])

    @property
    def active(self) -> bool:
        """False while the scheduled weight is 0 (the owner then skips the
        loss altogether: no compute, no key in the loss dict)."""
        return self.current_weight > 0

    def weights_for(self, num_levels: int) -> list:
        """Per-level weights for a decoder with ``num_levels`` levels.

        Raises:
            ValueError: ``level_weights`` has another length.
        """
        if self.level_weights is None:
            return [1.0] * num_levels
        if len(self.level_weights) != num_levels:
            raise ValueError(
                f'{type(self).__name__}.level_weights has '
                f'{len(self.level_weights)} entries but the flow decoder '
                f'gives {num_levels} levels (coarse to fine)')
        return list(self.level_weights)
