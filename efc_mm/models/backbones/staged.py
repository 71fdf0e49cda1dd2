"""What the staged backbones (:class:`DilatedVGG16`, :class:`EfficientNetLite`)
share: the ``pretrained`` shorthand and the staged-backbone protocol the EFC
segmentor splits them with
(:class:`~efc_mm.models.segmentors.staged_backbone.StagedBackbone`)."""
from typing import Optional, Tuple, Type

from torch import Tensor

__all__ = ['StagedBackboneMixin', 'pretrained_init_cfg']


def pretrained_init_cfg(owner: str, pretrained: Optional[str], init_cfg,
                        type_error: Type[Exception] = ValueError):
    """The ``init_cfg`` a backbone built with ``pretrained`` / ``init_cfg``
    uses: ``pretrained=PATH`` is shorthand for ``init_cfg=dict(type=
    'Pretrained', checkpoint=PATH)`` (as mmseg's ResNet; the segmentor's
    ``pretrained`` sets it).

    Raises:
        type_error: ``pretrained`` is neither None nor a str.
        ValueError: both ``pretrained`` and ``init_cfg`` are given.
    """
    if pretrained is None:
        return init_cfg
    if not isinstance(pretrained, str):
        raise type_error(f'{owner}: pretrained must be a checkpoint path '
                         f'(str) or None, got {type(pretrained).__name__}')
    if init_cfg is not None:
        raise ValueError(f'{owner}: set either pretrained or init_cfg, not '
                         f'both (pretrained={pretrained!r}, '
                         f'init_cfg={init_cfg!r})')
    return dict(type='Pretrained', checkpoint=pretrained)


class StagedBackboneMixin:
    """The staged-backbone protocol for a module whose stages are the
    submodules named in ``stage_names`` (run in order), and its
    ``forward``: the outputs of the stages in ``out_indices``.

    The class sets ``stage_names``; the instance ``in_channels`` and
    ``out_indices`` (a tuple).
    """

    stage_names: Tuple[str, ...] = ()

    def forward_stage(self, index: int, x: Tensor) -> Tensor:
        """Run stage ``index`` (of ``stage_names``) on ``x``."""
        return getattr(self, self.stage_names[index])(x)

    def stage_out_index(self, index: int) -> Optional[int]:
        """Position of stage ``index`` in the output tuple, or None."""
        return (self.out_indices.index(index)
                if index in self.out_indices else None)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """``(N, C, H, W)`` images -> tuple of the ``out_indices`` stage
        outputs."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects (N, '
                             f'{self.in_channels}, H, W) images, got '
                             f'{tuple(x.shape)}')
        outs = []
        for i in range(len(self.stage_names)):
            x = self.forward_stage(i, x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
