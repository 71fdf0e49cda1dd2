"""Per-pixel SSIM with a 3x3 window (photometric loss G, EFC eq. 6)."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ['ssim']


def ssim(x: Tensor, y: Tensor, c1: float = 0.01**2, c2: float = 0.03**2,
         window: int = 3) -> Tensor:
    r"""Per-pixel structural similarity of two images in ``[0, 1]``.

    .. math::
        SSIM = \frac{(2 \mu_x \mu_y + C_1)(2 \sigma_{xy} + C_2)}
                    {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}

    with means, variances and covariance over a ``window x window`` box
    (uniform weights, biased variance ``E[x^2] - E[x]^2``), computed per
    channel, as in the unsupervised flow / depth literature (Godard et al.
    2017; UnFlow; EFC eq. 6 uses it in G). **decision**: the borders use
    reflection padding (``F.pad(mode='reflect')``, i.e. no edge repetition)
    so the output has the input's size; the value is *not* clamped (use
    ``clamp((1 - ssim) / 2, 0, 1)`` in the loss).

    Args:
        x, y (Tensor): ``(N, C, H, W)`` images, same shape, values in [0, 1].
        c1, c2 (float): stabilisers, ``0.01**2`` and ``0.03**2``.
        window (int): odd box size (3).

    Returns:
        Tensor: ``(N, C, H, W)`` SSIM map, 1 where ``x == y``.
    """
    if x.dim() != 4 or x.shape != y.shape:
        raise ValueError('ssim expects two (N, C, H, W) tensors of the same '
                         f'shape, got {tuple(x.shape)} and {tuple(y.shape)}')
    if window % 2 != 1 or window < 1:
        raise ValueError(f'window must be odd and positive, got {window}')
    r = window // 2
    if r >= x.shape[-1] or r >= x.shape[-2]:
        raise ValueError(f'ssim: image {tuple(x.shape[-2:])} too small for a '
                         f'{window}x{window} window with reflection padding')

    def box(t: Tensor) -> Tensor:
        return F.avg_pool2d(F.pad(t, (r, r, r, r), mode='reflect'), window,
                            stride=1)

    mu_x, mu_y = box(x), box(y)
    sigma_x = box(x * x) - mu_x * mu_x
    sigma_y = box(y * y) - mu_y * mu_y
    sigma_xy = box(x * y) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (sigma_x + sigma_y + c2)
    return num / den
