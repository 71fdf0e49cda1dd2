# Shared settings of the Cityscapes-layout debug configs (configs/debug/):
# names prefixed `debug_` so that a debug config can list this file next to
# the user config it inherits (mmengine refuses a key that two bases both
# set) and apply them with `{{_base_.debug_...}}`, which merges into the user
# config's entries.
#
# Data root: the EFC_DATA_ROOT environment variable (mmengine's
# `{{$VAR:default}}` substitution), default the user configs' data/cityscapes/.
# Any folder in Cityscapes layout works, e.g. the synthetic world of
#   python tools/dataset_converters/generate_synthetic_world.py data/efc_synth
debug_data_root = '{{$EFC_DATA_ROOT:data/cityscapes/}}'
debug_crop_size = (64, 64)
# the user configs' transforms; crop 713 -> 64 and the resize scale 1/8 of
# Cityscapes' (2048 x 1024), so the crop sees a comparable part of the scene
debug_train_pipeline = [
    dict(type='LoadPairFromFile'),
    dict(type='LoadPairAnnotations'),
    dict(type='PairRandomResize', scale=(256, 128), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=debug_crop_size, cat_max_ratio=0.75),
    dict(type='PairRandomRotate', prob=0.5, degree=10),
    dict(type='PairRandomFlip', prob=0.5),
    dict(type='PairPhotoMetricDistortion'),
    dict(type='PackPairInputs'),
]
debug_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
# one pair per step, data loaded in the main process
debug_train_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=debug_data_root, pipeline=debug_train_pipeline))
# validation / test on the first 2 images of the val split
debug_val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=debug_data_root, indices=2,
                 pipeline=debug_test_pipeline))
# 2 iterations, validation and a checkpoint after the second
debug_train_cfg = dict(max_iters=2, val_interval=2)
debug_default_hooks = dict(logger=dict(interval=1),
                           checkpoint=dict(interval=2))
