# Your own video: clips as folders of frames, a few frames labelled
# (efc_mm.datasets.VideoFramesPairDataset; docs/datasets.md).
#
#   data/my_video/
#     meta.json            {"classes": [...], "palette": [[r, g, b], ...]}
#     frames/clip_a/000000.jpg, 000001.jpg, ...   (any image extension; the
#     frames/clip_b/...                            order is the last number
#                                                   in the name)
#     labels/clip_a/000010.png                     (same clip folder and stem
#                                                   as its frame; uint8 class
#                                                   ids, 255 = ignore)
#
# Train: one snippet per labelled frame (the whole clip; set snippet_range=
# (before, after) to limit it), 10 pairs per snippet with gap t in [1, 5], 5
# of them containing the labelled frame (the paper's K / M), re-drawn at
# every access. Val / test: every consecutive pair of the labelled clips,
# mIoU on the labelled frames and temporal consistency with predicted flow.
# Set with_unlabelled=True to add pairs from clips without labels (+UD).
_base_ = ['./pair_common.py']
dataset_type = 'VideoFramesPairDataset'
data_root = 'data/my_video/'
crop_size = (512, 512)
train_pipeline = _base_.pair_loading + [
    dict(type='PairRandomResize', scale=None, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
] + _base_.pair_augmentation
train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='frames', seg_map_path='labels'),
        meta_file='meta.json',   # or metainfo=dict(classes=..., palette=...)
        pairs_per_snippet=10,
        labelled_pairs=5,
        max_gap=5,
        snippet_range=None,
        with_unlabelled=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='frames', seg_map_path='labels'),
        meta_file='meta.json',
        mode='consecutive',
        test_mode=True,
        pipeline=_base_.pair_test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='PairIoUMetric', iou_metrics=['mIoU']),
    dict(type='TemporalConsistencyMetric', flow_source='pred'),
]
test_evaluator = val_evaluator
