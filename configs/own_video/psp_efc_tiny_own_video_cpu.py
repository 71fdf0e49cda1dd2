# Train EFC on your own video, on a CPU: the quick start's tiny model
# (ResNetV1c-18 D8 with 16 base channels + the EFC flow branch, from scratch)
# on the clips of data/my_video (configs/_base_/datasets/video_frames.py:
# frames/<clip>/..., labels/<clip>/... for a few frames, meta.json with the
# class names). Walk-through in docs/own_video.md:
#   python tools/train.py configs/own_video/psp_efc_tiny_own_video_cpu.py
# num_classes must equal the number of classes in data/my_video/meta.json:
# edit it here, or add --cfg-options model.decode_head.num_classes=N
# model.auxiliary_head.num_classes=N.
# Validation: every consecutive pair of the labelled clips, mIoU on the
# labelled frames and temporal consistency with the predicted flow.
_base_ = [
    '../_base_/models/psp_efc_r50-d8.py',
    '../_base_/datasets/video_frames.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_quick.py'
]
num_classes = 3
data_root = 'data/my_video/'
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)
# the model of configs/quickstart/psp_efc_tiny_synthetic_cpu.py
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=18, stem_channels=16, base_channels=16,
                  norm_cfg=norm_cfg),
    decode_head=dict(in_channels=128, channels=32, pool_scales=(1, 2, 3, 6),
                     num_classes=num_classes, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=16, num_classes=num_classes,
                        norm_cfg=norm_cfg),
    flow_decoder=dict(
        in_channels=(16, 16, 32, 64), in_index=(0, 1, 2, 3),
        in_strides=(2, 4, 8, 8), corr_channels=32, max_displacement=4,
        dilation_patch=1, redir_channels=16, fuse_channels=64,
        contract_channels=(64, 64), skip_channels=16,
        deconv_channels=(64, 32, 16), min_stride=4, occ_mid_channels=16),
    # L_cons after the flow's warm-up, 30 % -> 50 % of the 400 iterations
    # (the model base's 3000 -> 5000 is for the 80k Cityscapes schedule)
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
    batch_size=4, num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
randomness = dict(seed=0)
