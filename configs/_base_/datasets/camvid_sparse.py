# Sparse labels in a real video: CamVid's 15 Hz labelled sequence (val/,
# 0016E5, 101 consecutive frames 0016E5_07959 ... 08159, 480x360, SegNet's 11
# classes) trained with 1 labelled frame per second (every 15th frame of the
# sequence: positions 0, 15, ..., 90, i.e. 07959, 07989, ..., 08139) and the
# other frames unlabelled; evaluated on the frames whose labels were not
# used (bench/camvid_sparse.py; configs/camvid_sparse/).
#
# Train: each of the 7 labelled frames paired with an *unlabelled* frame 1..5
# positions (2..10 video frames) before or after it, 10 pairs per labelled
# frame and epoch, images at half size (240x180) +-25 %, 128x128 crops.
# Val / test: the 100 consecutive pairs of the sequence at half size; mIoU
# (PairIoUMetric, full-resolution labels) on the 94 frames whose labels were
# not used (exclude_label_stride), temporal consistency on all 100 pairs with
# OpenCV's DIS flow (the same flow for every model; CamVid has no GT flow).
# A single-frame held-out set for tools/test.py:
#   dict(type='CamVidDataset', exclude_label_stride=15, ...).
# Changing the split: one override, label_split, e.g. in a child config
#   label_split = dict(stride=5)            # offset stays 0
# or on the command line
#   python tools/train.py CONFIG --cfg-options label_split.stride=5
# tools/train.py and tools/test.py write it into the train dataset's
# label_stride / label_offset and every evaluation dataset's
# exclude_label_stride / exclude_label_offset
# (efc_mm.datasets.apply_label_split), and refuse a config whose train and
# evaluation splits disagree (e.g. one field edited by hand), naming both.
#
# Data root: $EFC_CAMVID_ROOT, default ../shared/data/camvid/ (from the
# repository root), SegNet layout (val/ valannot/).
data_root = '{{$EFC_CAMVID_ROOT:../shared/data/camvid/}}'
label_split = dict(stride=15, offset=0)
# the split the dataset dicts below are written with (apply_label_split
# tells an override of label_split from a field edited by hand with it)
_label_split_base_ = dict(label_split)
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadPairFromFile'),
    dict(type='LoadPairAnnotations'),
    dict(type='PairRandomResize', scale=(240, 180), ratio_range=(0.8, 1.25),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='PairRandomFlip', prob=0.5),
    dict(type='PairPhotoMetricDistortion'),
    dict(type='PackPairInputs'),
]
# images resized before the labels are read: labels stay at 480x360, where
# the predictions are restored to (mmseg's test-pipeline order)
test_pipeline = [
    dict(type='LoadPairFromFile'),
    dict(type='PairResize', scale=(240, 180), keep_ratio=True),
    dict(type='LoadPairAnnotations'),
    dict(type='PackPairInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=1, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='CamVidVideoDataset', data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        label_stride=label_split['stride'],
        label_offset=label_split['offset'],
        max_gap=5, pairs_per_frame=10, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CamVidVideoDataset', data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        mode='consecutive', test_mode=True,
        exclude_label_stride=label_split['stride'],
        exclude_label_offset=label_split['offset'], pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='PairIoUMetric', iou_metrics=['mIoU']),
    dict(type='TemporalConsistencyMetric', flow_source='dis'),
]
test_evaluator = val_evaluator
# Building block of the "+ 367 train images" variants (configs/
# camvid_headroom/*_train367.py): CamVid's train/ split (367 labelled frames
# of 0001TP, 0006R0 and 0016E5, about 1 s apart; the 0016E5 ones nearest the
# 15 Hz sequence are 07920 and 08190, outside it) as pairs of neighbouring
# labelled frames (no raw video: the neighbour is the previous or next
# labelled frame of the same sequence), one pair per frame and epoch.
camvid_train367_source = dict(
    type='CamVidVideoDataset', data_root=data_root,
    data_prefix=dict(img_path='train', seg_map_path='trainannot'),
    pairs_per_frame=1, pipeline=train_pipeline)
# their train loader: two streams at a fixed ratio, every batch of 4 holds 2
# pairs of the 15 Hz sequence (this base's train dataset) and 2 of train/
camvid_train367_loader = dict(
    batch_size=4,
    sampler=dict(_delete_=True, type='MultiSourceSampler', batch_size=4,
                 source_ratio=[2, 2], shuffle=True),
    dataset=dict(_delete_=True, type='MultiSourcePairDataset',
                 sources=[train_dataloader['dataset'],
                          camvid_train367_source]))
