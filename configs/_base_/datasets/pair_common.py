# What the pair dataset bases beside it share (camvid_video.py,
# cityscapes_sequence.py, kitti_flow.py, synthetic_world.py,
# video_frames.py): the steps of a pair pipeline and the loader settings.
# A dataset base lists this file in its _base_, composes its pipelines from
# the steps (`_base_.pair_loading + [its resize and crop] +
# _base_.pair_augmentation`) and writes in its loader dicts only what
# differs (they merge into the ones here); a loader these do not name is
# `dict(_base_.val_dataloader, dataset=...)`. The debug configs compose
# theirs from the same steps.
pair_loading = [
    dict(type='LoadPairFromFile'),
    dict(type='LoadPairAnnotations'),
]
# after the resize and crop of a training pipeline: the same geometric
# transform and (by default) the same colour jitter for both frames
pair_rotation = [dict(type='PairRandomRotate', prob=0.5, degree=10)]
pair_augmentation = [
    dict(type='PairRandomFlip', prob=0.5),
    dict(type='PairPhotoMetricDistortion'),
    dict(type='PackPairInputs'),
]
# the pair loader of flow / temporal-consistency evaluation
pair_test_pipeline = pair_loading + [dict(type='PackPairInputs')]
# single frames (mmseg's val / test path): `_base_.image_loading + [a
# Resize] + _base_.image_packing` (the labels are read after the resize, at
# their own size, where the predictions are restored to)
image_loading = [dict(type='LoadImageFromFile')]
image_packing = [dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
train_dataloader = dict(
    batch_size=2,  # pairs per GPU
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
