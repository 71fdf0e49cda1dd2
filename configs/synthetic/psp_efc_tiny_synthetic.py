# The synthetic-world protocol of bench/efc_ablation.py (rows: efc_mm.ablation,
# configs/_base_/ablation/; `tools/train.py THIS --row NAME`). As is, it is
# the rows "full" and "UD" (TCC_multi+OM+UD): the quick start's tiny
# PSP-style EFC, one labelled frame in 30 (frame 19 of each of the 24 train
# snippets), ten pairs per snippet, all ten containing the labelled frame
# (M = K: the same labelled frames per step as the baseline; the paper's
# M = 5 halves them, measured cost in docs/results.md), plus ten pairs from
# each of 8 extra *unlabelled* snippets of a second world (UD, generated on
# first use), evaluated on every consecutive val pair. L_cons switches on at
# 30 % of the run and reaches full weight at 50 %.
_base_ = ['../quickstart/psp_efc_tiny_synthetic_cpu.py']
train_dataloader = dict(dataset=dict(
    pairs_per_snippet=10, labelled_pairs=10, with_unlabelled=True,
    unlabelled_world=dict(root='data/efc_synthetic_quick_ud',
                          num_train_snippets=8, num_val_snippets=1,
                          height=128, width=256, seed=1),
    data_prefix=dict(
        img_path='leftImg8bit_sequence/train', seg_map_path='gtFine/train',
        unlabelled_img_path='../efc_synthetic_quick_ud/'
        'leftImg8bit_sequence/train')))
train_cfg = dict(max_iters=1000, val_interval=250)
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0,
                        end=1000, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=1000))
custom_hooks = []
