# efc_mm's synthetic world (the efc_synthetic package, Cityscapes layout and
# train ids, see docs/design.md): the same pair dataset as Cityscapes, small
# crops for CPU / smoke runs. Generate it with
#   python tools/dataset_converters/generate_synthetic_world.py \
#       data/efc_synthetic
# (or let the datasets below do it on first use).
# val: single labelled frames, mIoU (mmseg's CityscapesDataset, through
# SyntheticWorldDataset);
# test: consecutive pairs (t = 1) of the val snippets with ground-truth flow,
# occlusion and per-frame labels -> flow EPE / Fl, temporal consistency and
# mIoU on every frame. To score single frames instead, set
# test_dataloader = val_dataloader and test_evaluator = val_evaluator.
# The datasets generate the world under data_root on first use (rank 0;
# skipped when a world with exactly these settings is already there).
# world=None: use an existing world as it is.
_base_ = ['./pair_common.py']
dataset_type = 'SyntheticWorldPairDataset'
data_root = 'data/efc_synthetic'
world = dict(num_train_snippets=24, num_val_snippets=6, height=256,
             width=512, seed=0)
crop_size = (192, 192)
train_pipeline = _base_.pair_loading + [
    # scale relative to the image size (the world is 512x256 by default)
    dict(type='PairRandomResize', scale=None, ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
] + _base_.pair_rotation + _base_.pair_augmentation
test_pipeline = _base_.image_loading + _base_.image_packing
train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        world=world,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit_sequence/train',
            seg_map_path='gtFine/train'),
        pairs_per_snippet=10,
        labelled_pairs=5,
        max_gap=5,
        frames_per_snippet=30,
        labelled_index=19,
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(
        type='SyntheticWorldDataset',
        world=world,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
pair_test_dataloader = dict(
    _base_.val_dataloader,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        world=world,
        data_root=data_root,
        mode='consecutive',
        test_mode=True,
        frames_per_snippet=30,
        labelled_index=19,
        data_prefix=dict(
            img_path='leftImg8bit_sequence/val',
            seg_map_path='gtFine/val',
            seq_seg_map_path='gtFine_sequence/val',
            flow_occ_path='flow_occ/val',
            flow_noc_path='flow_noc/val'),
        pipeline=_base_.pair_test_pipeline))
pair_test_evaluator = [
    dict(type='EFCFlowMetric', direction='fw'),
    dict(type='TemporalConsistencyMetric', flow_source='auto'),
    dict(type='PairIoUMetric', iou_metrics=['mIoU']),
]
test_dataloader = pair_test_dataloader
test_evaluator = pair_test_evaluator
# The metrics of the synthetic protocols (quick start, configs/synthetic,
# configs/synthetic_headroom) on consecutive val pairs with exact ground
# truth: mIoU on every frame, flow EPE / Fl, TC with the true flow;
# synthetic_seg_metrics for a model without a flow branch.
synthetic_metrics = [
    dict(type='PairIoUMetric', iou_metrics=['mIoU']),
    dict(type='EFCFlowMetric', direction='fw'),
    dict(type='TemporalConsistencyMetric', flow_source='gt'),
]
synthetic_seg_metrics = [
    dict(type='PairIoUMetric', iou_metrics=['mIoU']),
    dict(type='TemporalConsistencyMetric', flow_source='gt'),
]
