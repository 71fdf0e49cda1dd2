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
    '../_base_/models/psp_efc_tiny.py',
    '../_base_/datasets/video_frames.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_quick.py'
]
num_classes = 3
data_root = 'data/my_video/'
crop_size = (128, 128)
model = dict(decode_head=dict(num_classes=num_classes),
             auxiliary_head=dict(num_classes=num_classes))
train_pipeline = _base_.pair_loading + [
    dict(type='PairRandomResize', scale=None, ratio_range=(0.8, 1.25),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
] + _base_.pair_augmentation
train_dataloader = dict(
    batch_size=4, num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
randomness = dict(seed=0)
