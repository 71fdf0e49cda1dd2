# The oracle row of the headroom protocol (psp_efc_tiny_headroom.py): the
# baseline model (configs/_base_/ablation/baseline.py) trained with *every*
# snippet labelled: the 6 labelled snippets and the 42 snippets EFC sees
# without labels (the same unlabelled world, its labelled frame 19 read this
# time), with the row's pair draw (one pair per snippet, holding its
# labelled frame), batch 4 drawn uniformly over the 48 snippets (a plain
# InfiniteSampler over both sources: one item per snippet). Same schedule
# and evaluation as the baseline; oracle - baseline bounds what any use of
# the 42 unlabelled snippets can gain (bench/headroom.py).
#   python tools/train.py \
#       configs/synthetic_headroom/psp_oracle_tiny_headroom.py
_base_ = ['./psp_efc_tiny_headroom.py', '../_base_/ablation/baseline.py']
model = {{_base_._row_.model}}
train_dataloader = dict(
    batch_size=4,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True, type='MultiSourcePairDataset',
        sources=[dict(_base_.labelled_snippets, **_base_._row_.train_dataset),
                 dict(_base_.unlabelled_world_snippets,
                      **_base_._row_.train_dataset)]))
val_evaluator = _base_.synthetic_seg_metrics
test_evaluator = _base_.synthetic_seg_metrics
