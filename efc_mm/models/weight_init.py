"""Load one part of a checkpoint into one module, strictly.

mmengine's ``Pretrained`` initialiser with a ``prefix`` loads non-strictly
and, when the prefix is absent, fails with a bare ``AssertionError``. TCC_fix
(EFC Table 1: a *fixed pretrained* flow network) must not silently start from
random flow weights, so this initialiser loads strictly and names the file,
the prefix and what the checkpoint does hold.
"""
from typing import Optional

from mmengine.logging import print_log

from ..registry import WEIGHT_INITIALIZERS

__all__ = ['PretrainedPart', 'load_checkpoint_part']


def load_checkpoint_part(module, checkpoint: str, prefix: str,
                         map_location: str = 'cpu') -> None:
    """Load the ``prefix.*`` weights of ``checkpoint`` into ``module``.

    Raises:
        FileNotFoundError: ``checkpoint`` does not exist (local paths).
        KeyError: the checkpoint holds no ``prefix.*`` weights, or they do
            not match ``module`` (missing / unexpected keys are listed).
    """
    import os.path as osp

    from mmengine.runner.checkpoint import CheckpointLoader
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'PretrainedPart: checkpoint {checkpoint!r} does not exist (it '
            f'should hold the {prefix!r} weights, e.g. the last checkpoint of '
            'a flow-only run such as configs/ablation/t2_ul.py)')
    ckpt = CheckpointLoader.load_checkpoint(checkpoint,
                                            map_location=map_location)
    state = ckpt.get('state_dict', ckpt)
    if not prefix.endswith('.'):
        prefix += '.'
    part = {k[len(prefix):]: v for k, v in state.items()
            if k.startswith(prefix)}
    if not part:
        heads = sorted({k.split('.')[0] + '.' for k in state})
        raise KeyError(f'PretrainedPart: {checkpoint} has no {prefix!r} '
                       f'weights; it holds {heads}')
    own = module.state_dict()
    missing = sorted(set(own) - set(part))
    unexpected = sorted(set(part) - set(own))
    if missing or unexpected:
        raise KeyError(
            f'PretrainedPart: the {prefix!r} weights of {checkpoint} do not '
            f'fit {type(module).__name__}: missing {missing[:5]}'
            f'{"..." if len(missing) > 5 else ""}, unexpected '
            f'{unexpected[:5]}{"..." if len(unexpected) > 5 else ""}')
    module.load_state_dict(part, strict=True)
    print_log(f'loaded {prefix}* of {checkpoint} into '
              f'{type(module).__name__}', logger='current')


@WEIGHT_INITIALIZERS.register_module()
class PretrainedPart:
    """``init_cfg=dict(type='PretrainedPart', checkpoint=FILE,
    prefix='flow_decoder.')``: strict :func:`load_checkpoint_part`.

    Args:
        checkpoint (str): file (or URL) of an mmengine checkpoint.
        prefix (str): key prefix of the part to load.
        map_location (str): where to load the tensors. Default ``'cpu'``.
    """

    def __init__(self, checkpoint: str, prefix: str,
                 map_location: Optional[str] = 'cpu') -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.map_location = map_location

    def __call__(self, module) -> None:
        load_checkpoint_part(module, self.checkpoint, self.prefix,
                             self.map_location)

    def _get_init_info(self) -> str:
        return (f'{type(self).__name__}: load {self.prefix}* from '
                f'{self.checkpoint}')
