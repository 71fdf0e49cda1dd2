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
    '../_base_/models/psp_efc_tiny.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_quick.py'
]
world = dict(num_train_snippets=24, num_val_snippets=4, height=128,
             width=256, seed=0)
data_root = 'data/efc_synthetic_quick'
crop_size = (128, 128)
train_pipeline = _base_.pair_loading + [
    dict(type='PairRandomResize', scale=None, ratio_range=(0.8, 1.25),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
] + _base_.pair_augmentation
train_dataloader = dict(
    batch_size=4, num_workers=1,
    dataset=dict(world=world, data_root=data_root, pipeline=train_pipeline))
# Validation and test: consecutive pairs of the val snippets, all four
# metrics (the pair loader of the synthetic_world base, on this world).
pair_eval_dataloader = dict(
    _base_.pair_test_dataloader, num_workers=1,
    dataset=dict(_base_.pair_test_dataloader.dataset, world=world,
                 data_root=data_root))
val_dataloader = pair_eval_dataloader
test_dataloader = pair_eval_dataloader
val_evaluator = _base_.synthetic_metrics
test_evaluator = _base_.synthetic_metrics
default_hooks = dict(
    visualization=dict(type='PairSegVisualizationHook', draw=False,
                       interval=1))
custom_hooks = [
    dict(type='PairVisualizationHook', after_val=True, num_pairs=4),
]
randomness = dict(seed=0)
