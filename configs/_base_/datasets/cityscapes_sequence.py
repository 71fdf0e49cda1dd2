# Cityscapes video pairs for EFC training (Ding et al., AAAI 2020), mmseg
# single-frame Cityscapes for val / test mIoU.
#
# Train: from each 30-frame snippet of leftImg8bit_sequence (frame 20, index
# 19, labelled in gtFine), 10 pairs with gap t in [1, 5], 5 of them containing
# the labelled frame; re-drawn at every access (len = 10 x 2975 snippets).
# The same geometric transform for both frames: random scale, 713x713 crop,
# rotation, flip; colour jitter (the same for both frames by default, see
# PairPhotoMetricDistortion). Ablations override train_dataloader.dataset:
# pairs_per_snippet=1 (TCC_single, as configs/ablation uses),
# with_unlabelled=True (+UD; set
# data_prefix.unlabelled_img_path to a directory of extra sequences).
_base_ = ['./pair_common.py']
dataset_type = 'CityscapesSequencePairDataset'
data_root = 'data/cityscapes/'
crop_size = (713, 713)
train_pipeline = _base_.pair_loading + [
    dict(type='PairRandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
] + _base_.pair_rotation + _base_.pair_augmentation
# val / test: single frames, mmseg's standard Cityscapes path
test_pipeline = _base_.image_loading + [
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
] + _base_.image_packing
# (pair_test_pipeline, from ./pair_common.py, is the pair loader of flow /
# temporal-consistency evaluation on sequences, consecutive pairs t = 1;
# real Cityscapes has no flow or gtFine_sequence, so only TC with predicted
# flow applies there)
# batch: 2 pairs per GPU -> 16 on 8 GPUs (the paper: 16 on 16 GPUs, SyncBN)
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit_sequence/train',
            seg_map_path='gtFine/train',
            # the UD row's unlabelled snippets (no gtFine: both frames all
            # 255), read only with with_unlabelled=True
            unlabelled_img_path='leftImg8bit_sequence/test'),
        pairs_per_snippet=10,
        labelled_pairs=5,
        max_gap=5,
        frames_per_snippet=30,
        labelled_index=19,
        with_unlabelled=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type='CityscapesDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
