# A plain mmseg segmentor small enough for tool smoke tests on a CPU.
# Tests set data_root to a folder of generated images
# (img_dir/*.png + ann_dir/*.png, 4 classes).
_base_ = ['../../../configs/_base_/default_runtime.py']
data_root = 'REPLACED_BY_TEST'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
        seg_pad_val=255, size=(32, 32)),
    backbone=dict(
        type='ResNetV1c', depth=18, num_stages=2, out_indices=(0, 1),
        strides=(1, 2), dilations=(1, 1), stem_channels=8, base_channels=8,
        norm_cfg=norm_cfg, contract_dilation=True),
    decode_head=dict(
        type='FCNHead', in_channels=16, in_index=1, channels=8, num_convs=1,
        concat_input=False, num_classes=4, norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
dataset = dict(
    type='BaseSegDataset', data_root=data_root,
    data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
    img_suffix='.png', seg_map_suffix='.png',
    metainfo=dict(classes=('a', 'b', 'c', 'd'),
                  palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')]
train_dataloader = dict(
    batch_size=2, num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(**dataset, pipeline=pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset, pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1,
                    save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
