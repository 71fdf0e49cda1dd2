"""Label propagation along optical flow (beyond the paper).

A labelled frame k's label map is carried to its neighbours j = k +- d by
backward warping with the flow from j to the frame the labels come from,
keeping only the pixels that a visibility test says are seen in both frames
(others get ``ignore_index``)::

    L_j(p) = L_src(round(p + F_{j->src}(p)))   if p is visible in src

Two ways to reach a frame d steps away (``mode``):

* ``'chain'`` (default): src = the previous frame of the walk (j -+ 1):
  the labels of k+1 are warped from k, those of k+2 from the propagated
  k+1, and so on, using only consecutive-frame flows. Pixels found invisible
  at one step stay ignored afterwards. **Why default:** EFC's flow branch
  is trained on gaps t in [1, 5] and its cost volume covers
  +-``max_displacement`` feature pixels, so flow between far-apart frames is
  out of its training range; consecutive flows stay in it. The price is that
  nearest-neighbour resampling and flow errors accumulate over steps.
* ``'direct'``: src = k for every j: one flow per target over the whole
  distance d (no accumulation, but large gaps).

Visibility (``visibility``):

* ``'fb'``: forward-backward consistency (Sundaram et al., ECCV 2010; the
  constants of UnFlow, Meister et al., AAAI 2018): p is visible when
  ``|F_ab(p) + F_ba(p + F_ab(p))|^2 < 0.01 (|F_ab(p)|^2 +
  |F_ba(p + F_ab(p))|^2) + 0.5``, with ``F_ba`` sampled bilinearly;
* ``'occ'``: the model's occlusion map ``O_{j->src}(p) < 0.5``;
* ``'both'``: both tests; ``'none'``: only in-frame.

A pixel whose sample position is out of frame is never visible.
"""
from typing import Callable, Dict, Iterator, Optional, Tuple

import numpy as np
import torch

from ..evaluation.functional import warp_labels_nearest
from ..ops.warp import warp

__all__ = ['forward_backward_visible', 'propagate_step', 'visible_mask',
           'propagate_clip', 'ModelPairFlow', 'zero_pair_flow',
           'PropagationStats', 'MODES', 'VISIBILITY']

MODES = ('chain', 'direct')
VISIBILITY = ('fb', 'occ', 'both', 'none')
#: UnFlow's forward-backward constants (alpha_1, alpha_2)
FB_ALPHA1 = 0.01
FB_ALPHA2 = 0.5

#: ``pair_flow(target, source)`` -> dict with ``flow`` (2, H, W), the flow
#: target -> source; optional ``flow_back`` (source -> target) and ``occ``
#: (H, W) occlusion of the target's pixels in the source (1 = occluded)
PairFlowFn = Callable[[int, int], Dict[str, torch.Tensor]]


def _as_flow(x, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor)
                        else x)
    if t.dim() == 3 and t.shape[-1] == 2 and t.shape[0] != 2:
        t = t.permute(2, 0, 1)  # (H, W, 2) -> (2, H, W)
    if t.dim() != 3 or t.shape[0] != 2:
        raise ValueError(f'{name} must be (2, H, W) or (H, W, 2), got '
                         f'{tuple(t.shape)}')
    return t.float()


def forward_backward_visible(flow_ab, flow_ba, alpha1: float = FB_ALPHA1,
                             alpha2: float = FB_ALPHA2) -> torch.Tensor:
    """Forward-backward check of ``flow_ab`` against ``flow_ba``.

    Not mmflow's ``forward_backward_consistency``: it sums ``flow_fw * 2``
    where the test needs ``flow_fw ** 2`` (|F|^2).

    Args:
        flow_ab: flow a -> b, ``(2, H, W)`` or ``(H, W, 2)``, pixels.
        flow_ba: flow b -> a, same shape.

    Returns:
        Tensor: ``(H, W)`` bool, True where a's pixel passes the test (see
        the module docstring) and lands inside b.
    """
    fab = _as_flow(flow_ab, 'flow_ab')
    fba = _as_flow(flow_ba, 'flow_ba').to(fab.device)
    if fab.shape != fba.shape:
        raise ValueError(f'flow_ab {tuple(fab.shape)} and flow_ba '
                         f'{tuple(fba.shape)} differ in shape')
    fba_w, inside = warp(fba[None], fab[None])
    fba_w, inside = fba_w[0], inside[0, 0] > 0.5
    diff = ((fab + fba_w)**2).sum(0)
    bound = alpha1 * ((fab**2).sum(0) + (fba_w**2).sum(0)) + alpha2
    return inside & (diff < bound)


def visible_mask(flows: Dict[str, torch.Tensor],
                 visibility: str = 'fb') -> Optional[torch.Tensor]:
    """``(H, W)`` bool visibility from a ``pair_flow`` result (None for
    ``'none'``).

    Raises:
        ValueError: unknown ``visibility``, or the result lacks what it
            needs (``flow_back`` for ``'fb'``, ``occ`` for ``'occ'``).
    """
    if visibility not in VISIBILITY:
        raise ValueError(f'visibility must be one of {VISIBILITY}, got '
                         f'{visibility!r}')
    if visibility == 'none':
        return None
    mask = None
    if visibility in ('fb', 'both'):
        if flows.get('flow_back') is None:
            raise ValueError(f"visibility={visibility!r} needs the backward "
                             "flow ('flow_back') of the pair")
        mask = forward_backward_visible(flows['flow'], flows['flow_back'])
    if visibility in ('occ', 'both'):
        if flows.get('occ') is None:
            raise ValueError(f"visibility={visibility!r} needs an occlusion "
                             "map ('occ') of the pair (a model with an "
                             'occlusion head, or ground truth)')
        occ = torch.as_tensor(flows['occ']).reshape(
            flows['flow'].shape[-2:]) < 0.5
        mask = occ if mask is None else mask & occ.to(mask.device)
    return mask


def propagate_step(labels, flow, visible=None,
                   ignore_index: int = 255) -> torch.Tensor:
    """One propagation step: ``out(p) = labels(round(p + flow(p)))`` where
    ``visible`` (and in frame), else ``ignore_index``.

    Args:
        labels: ``(H, W)`` integer labels of the source frame.
        flow: ``(2, H, W)`` / ``(H, W, 2)`` flow target -> source, pixels.
        visible: optional ``(H, W)`` bool mask over the target's pixels.

    Returns:
        Tensor: ``(H, W)`` int64 labels of the target frame.
    """
    lab = torch.as_tensor(np.asarray(labels) if not isinstance(
        labels, torch.Tensor) else labels).long()
    f = _as_flow(flow, 'flow')
    warped, inside = warp_labels_nearest(lab, f, fill=ignore_index)
    keep = inside
    if visible is not None:
        keep = keep & torch.as_tensor(visible).to(keep.device).bool()
    return torch.where(keep, warped, torch.full_like(warped, ignore_index))


def propagate_clip(labels, index: int, num_frames: int, radius: int,
                   pair_flow: PairFlowFn, mode: str = 'chain',
                   visibility: str = 'fb', ignore_index: int = 255
                   ) -> Iterator[Tuple[int, int, torch.Tensor]]:
    """Propagate frame ``index``'s labels to the frames within ``radius``.

    Args:
        labels: ``(H, W)`` labels of frame ``index``.
        index (int): the labelled frame's position in the clip.
        num_frames (int): frames in the clip.
        radius (int): largest distance d.
        pair_flow: ``pair_flow(target, source)``, see :data:`PairFlowFn`.
        mode (str): ``'chain'`` or ``'direct'`` (module docstring).
        visibility (str): ``'fb'``, ``'occ'``, ``'both'`` or ``'none'``.

    Yields:
        tuple: ``(target index, distance d, (H, W) int64 labels)``, first
        forward (k+1, k+2, ...), then backward (k-1, k-2, ...).
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if not 0 <= index < num_frames:
        raise ValueError(f'index {index} is outside the clip of '
                         f'{num_frames} frames')
    if radius < 1:
        raise ValueError(f'radius must be >= 1, got {radius}')
    base = torch.as_tensor(np.asarray(labels) if not isinstance(
        labels, torch.Tensor) else labels).long()
    for step in (1, -1):
        cur = base
        for d in range(1, radius + 1):
            j = index + step * d
            if not 0 <= j < num_frames:
                break
            src = j - step if mode == 'chain' else index
            flows = pair_flow(j, src)
            out = propagate_step(cur if mode == 'chain' else base,
                                 flows['flow'],
                                 visible_mask(flows, visibility),
                                 ignore_index)
            if mode == 'chain':
                cur = out
            yield j, d, out


def zero_pair_flow(shape: Tuple[int, int]) -> PairFlowFn:
    """``pair_flow`` of the zero-motion reference: every flow 0, no
    occlusion (labels are copied unchanged)."""
    zero = torch.zeros((2, ) + tuple(shape))

    def fn(target: int, source: int) -> Dict[str, torch.Tensor]:
        return dict(flow=zero, flow_back=zero, occ=None)

    return fn


class ModelPairFlow:
    """``pair_flow`` from an EFC model: :func:`~efc_mm.apis.inference_pair`
    on ``(frames[target], frames[source])``, cached per pair.

    ``flow`` is the model's ``flow_fw`` (target -> source), ``flow_back``
    its ``flow_bw`` and ``occ`` its ``occ_fw`` (occlusion of the target's
    pixels in the source).

    Args:
        model: an EFC model (``with_flow``) from :func:`init_model`.
        frames (list): frame paths or BGR arrays, in clip order.
    """

    def __init__(self, model, frames) -> None:
        self.model = model
        self.frames = list(frames)
        self._cache: Dict[Tuple[int, int], Dict[str, torch.Tensor]] = {}

    def __call__(self, target: int, source: int) -> Dict[str, torch.Tensor]:
        key = (target, source)
        if key not in self._cache:
            from .inference import inference_pair
            out = inference_pair(self.model, self.frames[target],
                                 self.frames[source])
            self._cache[key] = dict(
                flow=torch.from_numpy(out['flow_fw']).permute(2, 0, 1),
                flow_back=torch.from_numpy(out['flow_bw']).permute(2, 0, 1),
                occ=torch.from_numpy(out['occ_fw']))
        return self._cache[key]


class PropagationStats:
    """Accuracy of propagated labels against true ones, per distance d.

    For each d it accumulates, over the pixels whose true label is not
    ``ignore_index``: ``valid`` (their number), ``kept`` (propagated, i.e.
    not ``ignore_index``), ``correct`` (kept and equal to the truth) and,
    when the labelled frame's own map is given, ``zero_correct``: the
    labelled map copied unchanged (zero flow) correct on the *same* kept
    pixels, a like-for-like reference.
    """

    FIELDS = ('valid', 'kept', 'correct', 'zero_correct')

    def __init__(self, ignore_index: int = 255) -> None:
        self.ignore_index = ignore_index
        self.rows: Dict[int, Dict[str, int]] = {}

    def update(self, distance: int, propagated, truth,
               source_labels=None) -> None:
        p = torch.as_tensor(np.asarray(propagated) if not isinstance(
            propagated, torch.Tensor) else propagated).long()
        t = torch.as_tensor(np.asarray(truth) if not isinstance(
            truth, torch.Tensor) else truth).long().reshape(p.shape)
        valid = t != self.ignore_index
        kept = valid & (p != self.ignore_index)
        row = self.rows.setdefault(int(distance),
                                   {k: 0 for k in self.FIELDS})
        row['valid'] += int(valid.sum())
        row['kept'] += int(kept.sum())
        row['correct'] += int((kept & (p == t)).sum())
        if source_labels is not None:
            s = torch.as_tensor(np.asarray(source_labels)).long().reshape(
                p.shape)
            row['zero_correct'] += int((kept & (s == t)).sum())

    def summary(self) -> Dict[int, Dict[str, float]]:
        """Per distance: ``accuracy`` (% of kept pixels correct),
        ``coverage`` (% of valid pixels kept), ``zero_flow_accuracy_same``
        (% of the same kept pixels that zero flow gets right) and the raw
        counts."""
        out = {}
        for d in sorted(self.rows):
            r = self.rows[d]
            out[d] = dict(
                r,
                accuracy=100.0 * r['correct'] / max(r['kept'], 1),
                coverage=100.0 * r['kept'] / max(r['valid'], 1),
                zero_flow_accuracy_same=100.0 * r['zero_correct'] /
                max(r['kept'], 1))
        return out
