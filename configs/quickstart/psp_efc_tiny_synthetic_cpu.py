# Quick start: EFC (PSP-style, tiny ResNetV1c-18 D8) trained on efc_mm's
# embedded synthetic world on a CPU in a few minutes, then evaluated on
# consecutive val pairs: mIoU (every frame), flow EPE all/noc, Fl-all and
# temporal consistency with ground-truth flow.
#   python tools/train.py configs/quickstart/psp_efc_tiny_synthetic_cpu.py
# The world (24 train + 4 val snippets of 30 frames at 128x256, frame 19
# labelled, i.e. 1 labelled frame in 30 as in Cityscapes) is generated under
# data/efc_synthetic_quick on first use. Compare with
#   configs/quickstart/psp_baseline_tiny_synthetic_cpu.py (no flow branch).
_base_ = [
    '../_base_/models/psp_efc_r50-d8.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_quick.py'
]
world = dict(num_train_snippets=24, num_val_snippets=4, height=128,
             width=256, seed=0)
data_root = 'data/efc_synthetic_quick'
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=18, stem_channels=16, base_channels=16,
                  norm_cfg=norm_cfg),
    decode_head=dict(in_channels=128, channels=32, pool_scales=(1, 2, 3, 6),
                     num_classes=19, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=16, num_classes=19,
                        norm_cfg=norm_cfg),
    flow_decoder=dict(
        in_channels=(16, 16, 32, 64), in_index=(0, 1, 2, 3),
        in_strides=(2, 4, 8, 8), corr_channels=32, max_displacement=4,
        # every feature pixel (8 px) of the cost volume, +-32 px: motion in
        # this 128x256 world is mostly < 8 px per frame, which the paper's
        # dilation_patch=2 (samples 16 px apart) cannot resolve (measured:
        # flow-only 300 iterations, EPE 3.14 -> 2.52 px with 1 instead of 2)
        dilation_patch=1, redir_channels=16, fuse_channels=64,
        contract_channels=(64, 64), skip_channels=16,
        deconv_channels=(64, 32, 16), min_stride=4, occ_mid_channels=16),
    # L_cons after the flow's warm-up (30 % -> 50 % of the 400 iterations)
    loss_consistency=dict(weight_schedule=dict(begin=120, end=200)))
train_pipeline = [
    dict(type='LoadPairFromFile'),
    dict(type='LoadPairAnnotations'),
    dict(type='PairRandomResize', scale=None, ratio_range=(0.8, 1.25),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='PairRandomFlip', prob=0.5),
    dict(type='PairPhotoMetricDistortion'),
    dict(type='PackPairInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=1, persistent_workers=True,
    dataset=dict(type='SyntheticWorldPairDataset', world=world,
                 data_root=data_root, pipeline=train_pipeline))
# Validation and test: consecutive pairs of the val snippets, all four
# metrics (the pair loader of the synthetic_world base).
pair_eval_dataloader = dict(
    batch_size=1, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SyntheticWorldPairDataset', world=world,
                 data_root=data_root, mode='consecutive', test_mode=True,
                 frames_per_snippet=30, labelled_index=19,
                 data_prefix=dict(
                     img_path='leftImg8bit_sequence/val',
                     seg_map_path='gtFine/val',
                     seq_seg_map_path='gtFine_sequence/val',
                     flow_occ_path='flow_occ/val',
                     flow_noc_path='flow_noc/val'),
                 pipeline={{_base_.pair_test_pipeline}}))
eval_metrics = [
    dict(type='PairIoUMetric', iou_metrics=['mIoU']),
    dict(type='EFCFlowMetric', direction='fw'),
    dict(type='TemporalConsistencyMetric', flow_source='gt'),
]
val_dataloader = pair_eval_dataloader
test_dataloader = pair_eval_dataloader
val_evaluator = eval_metrics
test_evaluator = eval_metrics
default_hooks = dict(
    visualization=dict(type='PairSegVisualizationHook', draw=False,
                       interval=1))
custom_hooks = [
    dict(type='PairVisualizationHook', after_val=True, num_pairs=4),
]
randomness = dict(seed=0)
