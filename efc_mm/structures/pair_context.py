"""The pair layout and the per-batch pair context the EFC losses read.

Layout. A batch of ``B`` pairs ``(B, 2, 3, H, W)`` becomes ``2B`` frames
``inputs.transpose(0, 1).reshape(2B, 3, H, W)``: all frames i, then all
frames i+t (:func:`pair_to_frames`; :func:`~efc_mm.structures.
split_pair_samples` gives the matching per-frame samples). The flow decoder
runs once on ``(cat(f_i, f_{i+t}), cat(f_{i+t}, f_i))``, so item ``k`` of
every ``2B`` tensor has its partner at :func:`swap_pair`'s position: the
first ``B`` flows are the forward flows ``F_{i->i+t}``, the last ``B`` the
backward ``F_{i+t->i}``. :data:`DIRECTIONS` names the two halves.

Context. :class:`PairContext` holds what one training step computed for a
batch of pairs (shared-encoder features, segmentation logits, flow and
occlusion at every decoder level) and derives, lazily and at most once, what
the losses need (images in [0, 1] at a size, flows in a level's pixels,
warps). Every EFC loss module takes the context and returns its named
losses (Ding et al., AAAI 2020, eq. 2-7); no loss recomputes what another
already asked for.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['PairContext', 'swap_pair', 'pair_to_frames', 'frames_to_pair',
           'flow_to_level_pixels', 'resize_map', 'directions']


def swap_pair(x: Tensor) -> Tensor:
    """``[a; b] -> [b; a]`` along the batch: maps every frame of the pair
    layout to its partner (frame i <-> frame i+t)."""
    if x.shape[0] % 2:
        raise ValueError(f'the pair layout has an even batch (2B), got '
                         f'{tuple(x.shape)}')
    half = x.shape[0] // 2
    return torch.cat([x[half:], x[:half]], dim=0)


def pair_to_frames(inputs: Tensor) -> Tensor:
    """``(B, 2, 3, H, W) -> (2B, 3, H, W)``, all frames i first.

    Raises:
        ValueError: ``inputs`` is not a batch of RGB pairs.
    """
    if inputs.dim() != 5 or inputs.shape[1] != 2:
        raise ValueError('EFCSegmentor expects pairs (B, 2, 3, H, W) or '
                         f'frames (B, 3, H, W), got {tuple(inputs.shape)}')
    if inputs.shape[2] != 3:
        raise ValueError(f'each frame must have 3 channels, got '
                         f'{inputs.shape[2]} (inputs {tuple(inputs.shape)})')
    b, _, c, h, w = inputs.shape
    return inputs.transpose(0, 1).reshape(2 * b, c, h, w)


def frames_to_pair(frames: Tensor) -> Tensor:
    """Inverse of :func:`pair_to_frames`: ``(2B, ...) -> (B, 2, ...)``."""
    if frames.shape[0] % 2:
        raise ValueError(f'frames_to_pair needs 2B frames, got '
                         f'{tuple(frames.shape)}')
    b = frames.shape[0] // 2
    return frames.reshape(2, b, *frames.shape[1:]).transpose(0, 1)


def directions(n: int) -> Tuple[Tuple[str, slice], Tuple[str, slice]]:
    """``(('fw', first half), ('bw', second half))`` of a ``2B`` batch."""
    half = n // 2
    return (('fw', slice(0, half)), ('bw', slice(half, 2 * half)))


def resize_map(x: Tensor, size: Sequence[int], mode: str = 'bilinear'
               ) -> Tensor:
    """Resize ``(N, C, h, w)`` to ``size`` (no-op when equal); ``'area'``
    for images going down, bilinear (``align_corners=False``) otherwise."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode == 'area':
        return F.interpolate(x, size=tuple(size), mode='area')
    return F.interpolate(x, size=tuple(size), mode=mode, align_corners=False)


def flow_to_level_pixels(flow: Tensor, input_size: Sequence[int]) -> Tensor:
    """Convert a flow in input-image pixels to pixels of its own grid.

    Args:
        flow (Tensor): ``(N, 2, h, w)`` flow in pixels of an input of size
            ``input_size``, sampled on an ``h x w`` grid.
        input_size (tuple[int, int]): ``(H, W)`` of the network input.

    Returns:
        Tensor: ``(N, 2, h, w)``; u scaled by ``w / W``, v by ``h / H``.
    """
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f'flow must be (N, 2, h, w), got {tuple(flow.shape)}')
    h, w = flow.shape[-2:]
    scale = flow.new_tensor([w / input_size[1], h / input_size[0]])
    return flow * scale.view(1, 2, 1, 1)


class PairContext:
    """What the EFC losses of one batch of pairs read, each computed once.

    Built by :class:`~efc_mm.models.segmentors.EFCSegmentor` for every
    training step on pairs. Expensive parts are produced on first use by the
    callables the segmentor passes in, so a row without a flow branch never
    runs it and a row that does not need the segmentation logits never
    decodes them.

    Args:
        frames (Tensor): ``(2B, 3, H, W)`` normalised frames, pair layout.
        images (Tensor): the same frames as RGB in [0, 1] (EFC eq. 5-7
            compare images, not normalised tensors).
        shared (list[Tensor]): shared-encoder pyramid of ``frames`` (fine to
            coarse).
        labelled (list[bool]): per frame (pair layout), whether it carries a
            label.
        seg_fn (callable): ``shared -> (features, logits)``: the
            segmentation tail and decode head (``features`` as
            ``extract_feat`` returns them, for auxiliary heads).
        flow_fn (callable | None): ``() -> dict(flows, occlusions,
            strides)`` from the flow decoder (coarse to fine, flows in input
            pixels); None when the model has no flow branch.
        head_fn (callable | None): ``features -> logits``: the decode head
            alone, for :meth:`perturbed_seg_logits`; None when the model
            gives none.

    Attributes:
        terms (list): ``(loss name, level, direction, value)`` of every
            unweighted term the losses computed, detached, so that a NaN can
            be named (scale and direction) without recomputing anything.
    """

    def __init__(self, frames: Tensor, images: Tensor, shared: List[Tensor],
                 labelled: List[bool],
                 seg_fn: Callable[[List[Tensor]], Tuple[object, Tensor]],
                 flow_fn: Optional[Callable[[], Dict]] = None,
                 head_fn: Optional[Callable[[object], Tensor]] = None
                 ) -> None:
        if frames.shape[0] % 2 or frames.shape != images.shape:
            raise ValueError(f'PairContext: frames {tuple(frames.shape)} and '
                             f'images {tuple(images.shape)} must be the same '
                             '(2B, 3, H, W) pair layout')
        if len(labelled) != frames.shape[0]:
            raise ValueError(f'PairContext: {len(labelled)} labelled flags for '
                             f'{frames.shape[0]} frames')
        self.frames, self.images, self.shared = frames, images, shared
        self.labelled = [bool(v) for v in labelled]
        self._seg_fn, self._flow_fn = seg_fn, flow_fn
        self._head_fn = head_fn
        self._cache: Dict[tuple, object] = {}
        self.terms: list = []

    # -- what the step computed ------------------------------------------
    @property
    def input_size(self) -> Tuple[int, int]:
        """``(H, W)`` of the network input."""
        return tuple(self.frames.shape[-2:])

    @property
    def directions(self):
        """``(('fw', slice), ('bw', slice))`` of the ``2B`` batch."""
        return directions(self.frames.shape[0])

    @property
    def has_flow(self) -> bool:
        return self._flow_fn is not None

    def _once(self, key: tuple, make: Callable[[], object]):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _seg(self):
        return self._once(('seg', ), lambda: self._seg_fn(self.shared))

    @property
    def seg_features(self):
        """Segmentation features (``extract_feat`` layout) of the frames."""
        return self._seg()[0]

    @property
    def seg_logits(self) -> Tensor:
        """``(2B, K, h, w)`` decode-head logits of the frames."""
        return self._seg()[1]

    def perturbed_seg_logits(self, p: float) -> Tensor:
        """``(2B, K, h, w)`` decode-head logits of the segmentation
        features with channel dropout of rate ``p`` on every feature map
        (the feature perturbation of UniMatch, Yang et al., CVPR 2023,
        sec. 3.3: ``Dropout2d(0.5)`` between encoder and decoder); computed
        once per rate and step, with gradient."""
        if self._head_fn is None:
            raise RuntimeError('PairContext: no head_fn was given, so no '
                               'perturbed segmentation can be decoded')
        if not 0.0 < p < 1.0:
            raise ValueError(f'dropout rate must be in (0, 1), got {p!r}')

        def make():
            feats = self.seg_features
            drop = [F.dropout2d(f, p, training=True) for f in feats]
            return self._head_fn(type(feats)(drop) if isinstance(
                feats, tuple) else drop)
        return self._once(('seg_fp', float(p)), make)

    @property
    def flow_out(self) -> Dict[str, List]:
        """The flow decoder's output (``flows``, ``occlusions``, ``strides``,
        coarse to fine)."""
        if self._flow_fn is None:
            raise RuntimeError('PairContext: this model has no flow branch; '
                               'a flow loss cannot be computed')
        return self._once(('flow', ), self._flow_fn)

    @property
    def num_levels(self) -> int:
        return len(self.flow_out['flows'])

    def flow(self, level: int) -> Tensor:
        """``(2B, 2, h_l, w_l)`` flow of ``level`` in input pixels."""
        return self.flow_out['flows'][level]

    def occlusion(self, level: int) -> Tensor:
        """``(2B, 1, h_l, w_l)`` O_est of ``level`` in [0, 1]."""
        return self.flow_out['occlusions'][level]

    def level_flow(self, level: int) -> Tensor:
        """Flow of ``level`` in pixels of its own grid (for warping maps of
        the level's size)."""
        return self._once(('level_flow', level), lambda: flow_to_level_pixels(
            self.flow(level), self.input_size))

    def input_flow(self, level: int) -> Tensor:
        """Flow of ``level`` upsampled bilinearly to the input size (input
        pixels: no rescaling needed)."""
        return self._once(('input_flow', level), lambda: resize_map(
            self.flow(level), self.input_size))

    def flow_on(self, level: int, resolution: str) -> Tensor:
        """``input_flow`` (``resolution='input'``) or ``level_flow``
        (``'level'``)."""
        if resolution == 'input':
            return self.input_flow(level)
        if resolution == 'level':
            return self.level_flow(level)
        raise ValueError(f"resolution must be 'level' or 'input', got "
                         f'{resolution!r}')

    def flow_at(self, size: Sequence[int]) -> Tuple[int, Tensor]:
        """``(level, flow)``: the finest level of exactly ``size`` (else the
        finest level), resized to ``size`` and in pixels of that grid."""
        size = tuple(size)
        match = [i for i, f in enumerate(self.flow_out['flows'])
                 if tuple(f.shape[-2:]) == size]
        lvl = match[-1] if match else self.num_levels - 1
        flow = self._once(('flow_at', size), lambda: flow_to_level_pixels(
            resize_map(self.flow(lvl), size), self.input_size))
        return lvl, flow

    def images_at(self, size: Sequence[int]) -> Tensor:
        """The frames in [0, 1], area-resized to ``size``."""
        size = tuple(size)
        return self._once(('images', size),
                          lambda: resize_map(self.images, size, 'area'))

    def images_for(self, flow: Tensor) -> Tensor:
        """The frames in [0, 1] at ``flow``'s resolution."""
        return self.images_at(flow.shape[-2:])

    def warp_partner(self, x: Tensor, flow: Tensor, key=None
                     ) -> Tuple[Tensor, Tensor]:
        """``Warp(swap_pair(x), flow)``: each frame's partner brought into
        its grid; returns ``(warped, valid)``. With a ``key`` the result is
        cached (a second loss asking for the same warp reuses it)."""
        from ..ops import warp

        def make():
            return warp(swap_pair(x), flow)
        if key is None:
            return make()
        return self._once(('warp', ) + tuple(key), make)

    def labelled_mask(self) -> Tensor:
        """``(2B, 1, 1, 1)`` float, 1 where a frame carries a label."""
        return self.frames.new_tensor(
            [float(v) for v in self.labelled]).view(-1, 1, 1, 1)

    def record(self, name: str, level: int, direction: str,
               value: Tensor) -> None:
        """Keep a detached term for the NaN diagnosis."""
        self.terms.append((name, level, direction, value.detach()))
