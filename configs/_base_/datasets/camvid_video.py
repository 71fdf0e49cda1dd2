# CamVid (SegNet layout: train/ trainannot/ val/ valannot/, 480x360, 11
# classes, void 11 -> 255) in the Dilation8 setting of the paper's CamVid
# experiment (Dilation8 +EFC 67.4 vs 65.3 mIoU).
#
# Train: each labelled frame paired with a neighbour, re-drawn every access.
# With the 30 Hz video extracted as {seq}_{frame:05d}.png in raw_frames_dir,
# the neighbour is a raw frame at gap t in [1, 5] (unlabelled); without it
# (default here) it is the previous / next *labelled* frame of the sequence
# (SegNet train frames are 30 video frames apart, so flow there is large).
# val: single frames, mIoU (the SegNet test split is not shipped here; point
# test_dataloader at it when you have it).
_base_ = ['./pair_common.py']
dataset_type = 'CamVidVideoDataset'
data_root = 'data/camvid/'
crop_size = (360, 480)
train_pipeline = _base_.pair_loading + [
    dict(type='PairRandomResize', scale=(480, 360), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
] + _base_.pair_rotation + _base_.pair_augmentation
test_pipeline = _base_.image_loading + [
    dict(type='Resize', scale=(480, 360), keep_ratio=True),
] + _base_.image_packing
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='train', seg_map_path='trainannot'),
        raw_frames_dir=None,  # e.g. 'raw_30hz' (relative to data_root)
        max_gap=5,
        pairs_per_frame=1,
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type='CamVidDataset',
        data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
# temporal consistency on the 15 Hz val sequence (0016E5): every pair of
# successive labelled frames (gap 2 video frames), predicted flow
pair_test_dataloader = dict(
    _base_.val_dataloader,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        mode='consecutive',
        test_mode=True,
        pipeline=_base_.pair_test_pipeline))
pair_test_evaluator = [
    dict(type='TemporalConsistencyMetric', flow_source='pred'),
    dict(type='PairIoUMetric', iou_metrics=['mIoU']),
]
