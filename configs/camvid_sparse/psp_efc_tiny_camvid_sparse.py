# EFC on CamVid's 15 Hz sequence with 1 labelled frame per second (see
# configs/_base_/datasets/camvid_sparse.py): the tiny CPU model of the quick
# start with SegNet's 11 classes, the EFC losses of the synthetic protocol,
# L_cons switched on at 30 % and at full weight at 50 % of 1000 iterations.
#   python tools/train.py configs/camvid_sparse/psp_efc_tiny_camvid_sparse.py
# 3 seeds against the baseline: python bench/camvid_sparse.py
_base_ = ['../_base_/models/psp_efc_tiny.py',
          '../_base_/datasets/camvid_sparse.py',
          '../_base_/default_runtime.py',
          '../_base_/schedules/schedule_cpu_quick.py']
model = dict(decode_head=dict(num_classes=11),
             auxiliary_head=dict(num_classes=11))
# the rows' pair-draw keys (pairs per snippet, unlabelled snippets) do not
# apply here: every pair is a labelled frame and a neighbour (efc_mm.ablation)
row_train_dataset_keys = []
train_cfg = dict(max_iters=1000, val_interval=250)
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0,
                        end=1000, by_epoch=False)]
default_hooks = dict(
    checkpoint=dict(interval=1000),
    visualization=dict(type='PairSegVisualizationHook', draw=False))
randomness = dict(seed=0)
