# Smoke test of configs/dilation8_efc_camvid.py:
# the same model without pretrained weights, 2 iterations on 64 x 64 crops,
# validation on 2 images; data root from EFC_DATA_ROOT (CamVid SegNet layout:
# train/ trainannot/ val/ valannot/), default the user config's data/camvid/.
#   EFC_DATA_ROOT=data/camvid python tools/train.py \
#       configs/debug/dilation8_efc_camvid_debug.py
_base_ = ['../dilation8_efc_camvid.py']
data_root = '{{$EFC_DATA_ROOT:data/camvid/}}'
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)
model = dict(pretrained=None, data_preprocessor=data_preprocessor)
# the user config's transforms; crop 360 x 480 -> 64 x 64 and the resize
# scale 1/4 of CamVid's (480 x 360)
train_pipeline = _base_.pair_loading + [
    dict(type='PairRandomResize', scale=(120, 90), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
] + _base_.pair_rotation + _base_.pair_augmentation
test_pipeline = _base_.image_loading + [
    dict(type='Resize', scale=(120, 90), keep_ratio=True),
] + _base_.image_packing
train_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, indices=2, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
# the user config's temporal-consistency loader (tools/test.py --cfg-options
# test_dataloader=... uses it) reads the same root
pair_test_dataloader = dict(
    num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
