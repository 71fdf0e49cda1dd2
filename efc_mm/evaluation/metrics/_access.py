"""Reading fields of a pair sample given as a dict or a data element.

mmengine's ``Evaluator`` hands metrics ``PairDataSample.to_dict()``
(nested dicts, PixelData as ``{'data': tensor}``); tests and the demo may
pass the ``PairDataSample`` itself. These helpers accept both.
"""
from typing import Any, Optional

import torch
from mmengine.structures import BaseDataElement


def as_dict(sample: Any) -> dict:
    """A data sample as a (nested) dict."""
    if isinstance(sample, BaseDataElement):
        return sample.to_dict()
    if isinstance(sample, dict):
        return sample
    raise TypeError('expected a data sample (dict or BaseDataElement), got '
                    f'{type(sample)}')


def get_data(d: dict, key: str) -> Optional[torch.Tensor]:
    """``d[key]['data']`` (PixelData as dict), ``d[key].data`` or
    ``d[key]`` when it is a tensor already; ``None`` when absent."""
    if d is None:
        return None
    v = d.get(key, None)
    if v is None:
        return None
    if isinstance(v, dict):
        v = v.get('data', None)
    elif isinstance(v, BaseDataElement):
        v = getattr(v, 'data', None)
    if v is None:
        return None
    if not isinstance(v, torch.Tensor):
        v = torch.as_tensor(v)
    return v


def need(d: dict, key: str, metric: str, hint: str = '') -> torch.Tensor:
    """:func:`get_data` or a ``KeyError`` naming the field and the metric."""
    v = get_data(d, key)
    if v is None:
        raise KeyError(f"{metric} needs '{key}' in each data sample{hint}; "
                       f'got keys {sorted(d.keys())}')
    return v


def frame(d: dict, name: str, metric: str) -> dict:
    """``d['frame1']`` / ``d['frame2']`` as a dict."""
    f = d.get(name, None)
    if f is None:
        raise KeyError(f"{metric} needs '{name}' in each pair data sample "
                       f'(a PairDataSample); got keys {sorted(d.keys())}')
    return as_dict(f)


def check_shape(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str,
                metric: str) -> None:
    """Same spatial size ``(H, W)`` or a ``ValueError`` naming both fields."""
    if tuple(a.shape[-2:]) != tuple(b.shape[-2:]):
        raise ValueError(
            f"{metric}: '{name_a}' has spatial size {tuple(a.shape[-2:])} but "
            f"'{name_b}' has {tuple(b.shape[-2:])}; predictions are at the "
            'original image size, so the ground truth must be too (no '
            'padding / resizing in the test pipeline)')
