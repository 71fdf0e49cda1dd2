# The baseline row of the headroom protocol (psp_efc_tiny_headroom.py): the
# same tiny segmentor without the flow branch (configs/_base_/ablation/
# baseline.py), trained on the 6 labelled snippets only (the EFC protocol's
# source 0 with the row's pair draw: one pair per snippet, always holding
# its labelled frame), batch 4 (as many labelled pairs per step as EFC), the
# same schedule and evaluation; no flow metric (the model has no flow).
#   python tools/train.py \
#       configs/synthetic_headroom/psp_baseline_tiny_headroom.py
_base_ = ['./psp_efc_tiny_headroom.py', '../_base_/ablation/baseline.py']
model = {{_base_._row_.model}}
train_dataloader = dict(
    batch_size=4,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.labelled_snippets,
                 **_base_._row_.train_dataset))  # the row's pair draw
val_evaluator = _base_.synthetic_seg_metrics
test_evaluator = _base_.synthetic_seg_metrics
