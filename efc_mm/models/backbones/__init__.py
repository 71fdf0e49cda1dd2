"""Backbones: the Dilation (Yu & Koltun) VGG-16 front end and EfficientNet-Lite
(Tan & Le) with offline ImageNet weights."""
from .dilated_vgg import DilatedVGG16
from .efficientnet_lite import EfficientNetLite

__all__ = ['DilatedVGG16', 'EfficientNetLite']
