# Smoke test of configs/dilation10_efc_cityscapes.py:
# the same model without pretrained weights, 2 iterations on 64 x 64 crops,
# validation on 2 images; data root from EFC_DATA_ROOT (Cityscapes layout,
# e.g. the synthetic world; see ./_base_/debug_cityscapes.py).
#   EFC_DATA_ROOT=data/efc_synth python tools/train.py \
#       configs/debug/dilation10_efc_cityscapes_debug.py
_base_ = ['../dilation10_efc_cityscapes.py', './_base_/debug_cityscapes.py']
crop_size = {{_base_.debug_crop_size}}
data_preprocessor = dict(size=crop_size)
model = dict(pretrained=None, data_preprocessor=data_preprocessor)
train_dataloader = {{_base_.debug_train_dataloader}}
val_dataloader = {{_base_.debug_val_dataloader}}
test_dataloader = val_dataloader
train_cfg = {{_base_.debug_train_cfg}}
default_hooks = {{_base_.debug_default_hooks}}
