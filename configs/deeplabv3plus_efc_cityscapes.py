# DeepLabv3+-R50-D8 + EFC on Cityscapes sequences.
_base_ = ['./_base_/models/deeplabv3plus_efc_r50-d8.py',
          './_base_/datasets/cityscapes_sequence.py',
          './_base_/default_runtime.py', './_base_/schedules/schedule_80k.py']
data_preprocessor = dict(size=_base_.crop_size)
model = dict(data_preprocessor=data_preprocessor)
