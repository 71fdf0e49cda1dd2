# The synthetic headroom protocol (issue 17; bench/headroom.py): EFC where
# the room for a semi-supervised gain is in unlabelled *snippets*. The quick
# start's tiny PSP-style EFC (objective of the model base, unchanged) on two
# streams at a fixed ratio (MultiSourcePairDataset + MultiSourceSampler):
#   source 0: a labelled world of 6 train snippets of 30 frames, one
#     labelled frame per snippet (frame 19), every pair holds it (M = K = 10);
#   source 1: an unlabelled world of 42 train snippets (another world seed,
#     labelled=False: no label is read);
# batch 6 = 4 labelled pairs (as the baseline's batch of 4) + 2 unlabelled.
# Validation every 250 of 1000 iterations on every consecutive pair of the
# labelled world's 4 val snippets (the quick start's val snippets: same seed).
# Rows: psp_baseline_tiny_headroom.py (6 labelled snippets only) and
# psp_oracle_tiny_headroom.py (all 48 snippets labelled); the headroom is
# oracle - baseline. Both worlds (128x256) are generated on first use.
#   python tools/train.py \
#       configs/synthetic_headroom/psp_efc_tiny_headroom.py
#   python bench/headroom.py --seeds 0 1 2
_base_ = [
    '../_base_/models/psp_efc_tiny.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_quick.py'
]
# the labelled world: its 4 val snippets are the evaluation (seed 0: the
# same val snippets as the quick start, its train snippets the quick start's
# first 6)
world = dict(num_train_snippets=6, num_val_snippets=4, height=128,
             width=256, seed=0)
data_root = 'data/efc_synthetic_headroom_lab'
# the unlabelled world: train snippets only (renders labels, flow and
# occlusion like any world; the oracle reads its labels, EFC does not)
unlabelled_world = dict(num_train_snippets=42, num_val_snippets=0,
                        height=128, width=256, seed=1)
unlabelled_data_root = 'data/efc_synthetic_headroom_unl'
train_prefix = dict(img_path='leftImg8bit_sequence/train',
                    seg_map_path='gtFine/train')
crop_size = (128, 128)
train_pipeline = _base_.pair_loading + [
    dict(type='PairRandomResize', scale=None, ratio_range=(0.8, 1.25),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
] + _base_.pair_augmentation
# the snippets of each world as a pair dataset (the rows add their pair
# draw: psp_baseline_* / psp_oracle_* read these)
labelled_snippets = dict(
    type='SyntheticWorldPairDataset', world=world, data_root=data_root,
    data_prefix=train_prefix, max_gap=5, frames_per_snippet=30,
    labelled_index=19, pipeline=train_pipeline)
unlabelled_world_snippets = dict(
    labelled_snippets, world=unlabelled_world,
    data_root=unlabelled_data_root)
train_dataloader = dict(
    batch_size=6, num_workers=1, persistent_workers=True,
    sampler=dict(type='MultiSourceSampler', batch_size=6,
                 source_ratio=[4, 2], shuffle=True),
    dataset=dict(
        _delete_=True,  # the base's single-stream dataset keys
        type='MultiSourcePairDataset',
        sources=[
            # source 0: the labelled snippets; all ten pairs of a snippet
            # hold its labelled frame (rows of efc_mm.ablation merge here)
            dict(labelled_snippets, pairs_per_snippet=10, labelled_pairs=10),
            # source 1: the unlabelled snippets (no label read), ten pairs
            # each
            dict(unlabelled_world_snippets, labelled=False,
                 pairs_per_snippet=10),
        ]))
# validation and test: every consecutive pair (116) of the 4 val snippets
# (the pair loader of the synthetic_world base, on the labelled world)
pair_eval_dataloader = dict(
    _base_.pair_test_dataloader, num_workers=1,
    dataset=dict(_base_.pair_test_dataloader.dataset, world=world,
                 data_root=data_root))
val_dataloader = pair_eval_dataloader
test_dataloader = pair_eval_dataloader
val_evaluator = _base_.synthetic_metrics
test_evaluator = _base_.synthetic_metrics
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=250)
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0,
                        end=1000, by_epoch=False)]
default_hooks = dict(
    checkpoint=dict(interval=1000),
    visualization=dict(type='PairSegVisualizationHook', draw=False,
                       interval=1))
custom_hooks = []
randomness = dict(seed=0)
