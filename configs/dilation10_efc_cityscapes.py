# Dilation10 (VGG-16 front end + 10-layer context module) + EFC, Cityscapes.
_base_ = ['./_base_/models/dilation_efc_vgg16.py',
          './_base_/datasets/cityscapes_sequence.py',
          './_base_/default_runtime.py', './_base_/schedules/schedule_80k.py']
data_preprocessor = dict(size=_base_.crop_size)
model = dict(data_preprocessor=data_preprocessor)
