"""Shared helpers of the EFC losses: input checks, the valid-pixel mean,
per-level weights, the loss-weight schedule and gradient routing."""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple, Union

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


def check_choice(name: str, value, choices: Sequence) -> None:
    """Raise :class:`ValueError` unless ``value`` is one of ``choices``
    (``"target must be 'hard' or 'soft', got 'x'"``)."""
    if value not in choices:
        allowed = ' or '.join(repr(c) for c in choices)
        raise ValueError(f'{name} must be {allowed}, got {value!r}')


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


#: what a term's gradient may train, by the output it flows back through:
#: ``'seg'`` the frame's own segmentation output / features (decode head and
#: encoder), ``'target'`` the partner frame's, the one warped into this
#: frame (same parameters, the other frame), ``'flow'`` the flow (flow
#: decoder and, when shared, the encoder), ``'occ'`` the occlusion estimate
#: O_est (occlusion heads; also the flow decoder's features unless the
#: decoder detaches them).
ROUTES = ('seg', 'target', 'flow', 'occ')


def _schedule(weight_schedule: Optional[dict], owner: str) -> Optional[dict]:
    """Validate ``dict(begin=B, end=E)``: integers are iterations, floats
    fractions of the run in [0, 1]."""
    if weight_schedule is None:
        return None
    unknown = set(weight_schedule) - {'begin', 'end'}
    begin = weight_schedule.get('begin', 0)
    end = weight_schedule.get('end', begin)
    fraction = isinstance(begin, float) or isinstance(end, float)
    ok = not unknown and 0 <= begin <= end and (not fraction or end <= 1)
    if not ok:
        raise ValueError(
            f'{owner}: weight_schedule must be dict(begin=B, end=E) with '
            '0 <= B <= E, integers (iterations) or floats in [0, 1] '
            f'(fractions of max_iters), got {dict(weight_schedule)}')
    if fraction:
        return dict(begin=float(begin), end=float(end), fraction=True)
    return dict(begin=int(begin), end=int(end), fraction=False)


class BaseEFCLoss(nn.Module):
    """What every EFC loss module shares: weight, schedule, levels, routing.

    A loss module owns its whole term: :meth:`forward` takes the batch's
    :class:`~efc_mm.structures.PairContext` and returns ``{loss_name:
    value}`` (already weighted; empty while the scheduled weight is 0);
    :meth:`compute` is the tensor-level formula (the paper's equation) that
    :meth:`forward` applies per level and direction. A loss on decoder
    levels implements :meth:`level_inputs` (the batched ``2B`` inputs of
    :meth:`compute` on one level) and inherits :meth:`forward`; a loss on
    one level of its own choice overrides :meth:`forward` and calls
    :meth:`sum_directions`.

    Args:
        loss_weight (float): weight of the loss in the total (the paper's
            lambda).
        loss_name (str): key in the loss dict; mmengine logs and sums only
            keys that start with ``loss_``.
        level_weights (str | Sequence[float]): for losses on several decoder
            levels: ``'finest'`` (only the finest level, weight 1),
            ``'all'`` (every level weighs 1: the paper's sum over scales), or
            one weight per level, coarse to fine as the decoder returns
            them (``0`` skips a level; the length is checked against the
            decoder when the model is built). None means ``'all'``.
        weight_schedule (dict | None): ``dict(begin=B, end=E)``: the weight
            is 0 before ``B``, ramps linearly to ``loss_weight`` at ``E`` and
            stays there (``E == B``: a step). **Floats are fractions of the
            run** (of ``max_iters``, which mmengine publishes in its
            MessageHub), so a schedule survives a change of run length;
            integers are iterations. The iteration is the runner's
            (:meth:`set_iteration`, called by the segmentor before every
            training step; a resumed run continues the schedule). None:
            always ``loss_weight``.
        grad_to (Sequence[str] | None): which outputs the term's gradient
            flows back through, a subset of the outputs this loss reads
            (:data:`ROUTES`: ``'seg'``, ``'target'``, ``'flow'``,
            ``'occ'``); every other input is detached. None: the class
            default (``DEFAULT_GRAD_TO``).
    """

    #: outputs this loss reads (what ``grad_to`` may name)
    READS: Tuple[str, ...] = ()
    #: where the gradient goes unless a config says otherwise
    DEFAULT_GRAD_TO: Tuple[str, ...] = ()

    def __init__(self, loss_weight: float, loss_name: str,
                 level_weights: Union[str, Sequence[float]] = 'finest',
                 weight_schedule: Optional[dict] = None,
                 grad_to: Optional[Sequence[str]] = None) -> None:
        super().__init__()
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_': {loss_name}")
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name
        self.level_weights = self._check_levels(level_weights)
        self.weight_schedule = _schedule(weight_schedule, type(self).__name__)
        self.grad_to = self._check_routes(grad_to)
        self.iteration, self.max_iters = 0, None

    def _check_levels(self, level_weights):
        if level_weights in ('finest', 'all'):
            return level_weights
        if level_weights is None:  # the former spelling of 'all'
            return 'all'
        if isinstance(level_weights, str):
            raise ValueError(f"{type(self).__name__}: level_weights must be "
                             f"'finest', 'all' or a list, got "
                             f'{level_weights!r}')
        weights = [float(w) for w in level_weights]
        if not weights or any(w < 0 for w in weights):
            raise ValueError(f'{type(self).__name__}: level_weights must be a '
                             f'non-empty list of weights >= 0, got {weights}')
        return weights

    def _check_routes(self, grad_to) -> Tuple[str, ...]:
        if grad_to is None:
            grad_to = self.DEFAULT_GRAD_TO
        if isinstance(grad_to, str):
            grad_to = (grad_to, )
        grad_to = tuple(grad_to)
        if not grad_to:
            raise ValueError(f'{type(self).__name__}: grad_to is empty, so '
                             'the term would train nothing: remove the loss '
                             'instead')
        bad = [r for r in grad_to if r not in self.READS]
        if bad:
            raise ValueError(
                f'{type(self).__name__}: grad_to={list(grad_to)} names '
                f'{bad}, but this loss reads only {list(self.READS)}')
        return grad_to

    def route(self, x: Tensor, output: str) -> Tensor:
        """``x`` if the gradient may flow back through ``output``, else
        ``x.detach()``."""
        return x if output in self.grad_to else x.detach()

    @property
    def loss_name(self) -> str:
        """Key of this loss in the loss dict (starts with ``loss_``)."""
        return self._loss_name

    def set_iteration(self, iteration: int,
                      max_iters: Optional[int] = None) -> None:
        """Tell the loss the current training iteration and the length of
        the run (for the schedule)."""
        self.iteration = int(iteration)
        self.max_iters = None if max_iters is None else int(max_iters)

    def _bounds(self) -> Tuple[float, float]:
        s = self.weight_schedule
        if not s['fraction']:
            return s['begin'], s['end']
        if not self.max_iters:
            raise RuntimeError(
                f'{type(self).__name__}.weight_schedule begin={s["begin"]}, '
                f'end={s["end"]} are fractions of the run, but max_iters is '
                'unknown: train through an mmengine Runner (it publishes '
                "max_iters in the MessageHub) or give integer iterations")
        return s['begin'] * self.max_iters, s['end'] * self.max_iters

    @property
    def current_weight(self) -> float:
        """``loss_weight`` times the schedule's factor at :attr:`iteration`
        (linear ramp from 0 at ``begin`` to 1 at ``end``)."""
        if self.weight_schedule is None:
            return self.loss_weight
        begin, end = self._bounds()
        if self.iteration < begin:
            return 0.0
        if self.iteration >= end:
            return self.loss_weight
        return self.loss_weight * (self.iteration - begin) / (end - begin)

    @property
    def active(self) -> bool:
        """False while the scheduled weight is 0 (the term is then skipped
        altogether: no compute, no key in the loss dict)."""
        return self.current_weight > 0

    def weights_for(self, num_levels: int) -> list:
        """Per-level weights for a decoder with ``num_levels`` levels
        (coarse to fine).

        Raises:
            ValueError: a list of ``level_weights`` has another length.
        """
        if self.level_weights == 'all':
            return [1.0] * num_levels
        if self.level_weights == 'finest':
            return [0.0] * (num_levels - 1) + [1.0]
        if len(self.level_weights) != num_levels:
            raise ValueError(
                f'{type(self).__name__}.level_weights has '
                f'{len(self.level_weights)} entries but the flow decoder '
                f'gives {num_levels} levels (coarse to fine)')
        return list(self.level_weights)

    def check_model(self, model) -> None:
        """Refuse, when the model is built, a combination this loss cannot
        work with (``model`` is the segmentor); subclasses add checks."""

    def level_inputs(self, ctx, level: int) -> Sequence[Optional[Tensor]]:
        """The arguments of :meth:`compute` on decoder level ``level``,
        batched over the ``2B`` frames of the pair layout (None: an
        optional argument left out), gradients already routed."""
        raise NotImplementedError  # pragma: no cover

    def sum_directions(self, ctx, level: int,
                       inputs: Sequence[Optional[Tensor]],
                       weight: Optional[float] = None, total=0):
        """``total`` plus :meth:`compute` on the forward then the backward
        half of ``inputs`` (each times ``weight`` unless None), every term
        recorded in ``ctx`` under (loss name, ``level``, direction)."""
        for direction, half in ctx.directions:
            value = self.compute(*(None if t is None else t[half]
                                   for t in inputs))
            if weight is not None:
                value = weight * value
            ctx.record(self.loss_name, level, direction, value)
            total = total + value
        return total

    def forward(self, ctx) -> Dict[str, Tensor]:
        """``{loss_name: term}`` summed over the levels ``level_weights``
        selects (each times its weight) and both directions."""
        total = 0
        for level, weight in enumerate(self.weights_for(ctx.num_levels)):
            if weight:
                total = self.sum_directions(
                    ctx, level, self.level_inputs(ctx, level), weight, total)
        return {self.loss_name: total}


def sum_losses(modules, ctx) -> Dict[str, Tensor]:
    """Run every active loss module on the pair context and merge their
    named losses (the same name from two modules is summed)."""
    out: Dict[str, Tensor] = {}
    for mod in modules:
        if not mod.active:
            continue
        for name, value in mod(ctx).items():
            out[name] = out[name] + value if name in out else value
    return out


def build_loss_list(cfg, registry, owner: str) -> nn.ModuleList:
    """Build a list of loss modules from config.

    ``cfg`` is a list of loss dicts (mmseg's ``loss_decode`` style) or a
    dict ``{term: loss dict | None}``: the dict form is what configs use,
    because mmengine merges dicts key by key, so an ablation row removes a
    term with ``term=None`` or gives it an argument with ``term=dict(...)``
    without restating the others (a list in a child config replaces the
    whole list). Two modules may not share a ``loss_name``.
    """
    if cfg is None:
        return nn.ModuleList()
    if isinstance(cfg, dict) and 'type' in cfg:
        raise ValueError(f'{owner}: losses must be a list or a dict of loss '
                         f'configs (term -> dict), got a single loss {cfg}')
    items = list(cfg.values()) if isinstance(cfg, dict) else list(cfg)
    mods = nn.ModuleList(registry.build(c) for c in items if c)
    names = [m.loss_name for m in mods]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'{owner}: two losses share the loss_name {dup}')
    return mods
