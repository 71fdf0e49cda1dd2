"""Edge-aware flow smoothness loss, EFC eq. 7."""
from __future__ import annotations

from torch import Tensor

from efc_mm.ops import check_flow
from efc_mm.registry import MODELS
from .utils import BaseEFCLoss, check_map

__all__ = ['SmoothnessLoss']


@MODELS.register_module()
class SmoothnessLoss(BaseEFCLoss):
    r"""Edge-aware first-order smoothness of the flow (EFC eq. 7).

    .. math::
        L_{sm} = \frac{1}{2} \sum_{d \in \{x, y\}} \operatorname{mean}_p
            |\partial_d F(p)|_1 \, e^{-\lambda |\partial_d I(p)|}       \quad (7)

    Decisions: forward differences (``F(p + e_d) - F(p)``) on the ``H x
    (W-1)`` and ``(H-1) x W`` grids; ``|.|_1`` sums the two flow components
    (u, v); the image gradient is the mean over colour channels of the
    absolute difference; ``lambda = edge_constant`` = 10 for images in
    [0, 1] (as in ARFlow / UnFlow-style code: an edge of 0.1 halves the
    weight roughly 3x). The mean of the two directions is returned so a flow
    that changes by ``a`` px per pixel in one direction on a flat image costs
    ``a / 2``. The image is a constant (no gradient into it is needed, but it
    is not detached: it normally carries none).

    Args:
        loss_weight (float): 0.5 (lambda_sm of the paper).
        loss_name (str): ``'loss_sm'``.
        edge_constant (float): lambda in ``exp(-lambda |grad I|)``, 10.
    """

    def __init__(self, loss_weight: float = 0.5, loss_name: str = 'loss_sm',
                 edge_constant: float = 10.0) -> None:
        super().__init__(loss_weight=loss_weight, loss_name=loss_name)
        if edge_constant < 0:
            raise ValueError(f'edge_constant must be >= 0: {edge_constant}')
        self.edge_constant = edge_constant

    def forward(self, flow: Tensor, img: Tensor) -> Tensor:
        """Weighted loss (scalar).

        Args:
            flow (Tensor): ``(N, 2, H, W)`` flow in px at this scale.
            img (Tensor): ``(N, C, H, W)`` image at the flow's resolution, in
                [0, 1] (resize it to the flow's scale before calling).
        """
        check_flow(flow)
        check_map(img, 'img', flow)
        if flow.shape[-1] < 2 or flow.shape[-2] < 2:
            raise ValueError('SmoothnessLoss needs at least 2x2 pixels, got '
                             f'{tuple(flow.shape)}')
        terms = []
        for dim in (-1, -2):  # x, then y
            n = flow.shape[dim] - 1
            dflow = (flow.narrow(dim, 1, n) - flow.narrow(dim, 0, n)).abs()
            dimg = (img.narrow(dim, 1, n) - img.narrow(dim, 0, n)).abs()
            weight = (-self.edge_constant * dimg.mean(1, keepdim=True)).exp()
            terms.append((dflow.sum(1, keepdim=True) * weight).mean())
        return self.loss_weight * 0.5 * (terms[0] + terms[1])
