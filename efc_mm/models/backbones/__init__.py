"""Backbones: the Dilation (Yu & Koltun) VGG-16 front end."""
from .dilated_vgg import DilatedVGG16

__all__ = ['DilatedVGG16']
