# The oracle row of psp_efc_effnet_headroom.py: psp_oracle_tiny_headroom.py
# (all 48 snippets labelled, no flow branch) on the pretrained
# EfficientNet-Lite0.
_base_ = ['./psp_efc_tiny_headroom.py', '../_base_/ablation/baseline.py',
          '../_base_/models/efficientnet_lite0_encoder.py']
model = dict(_base_.efficientnet_lite0_tiny_model, **_base_._row_.model)
optim_wrapper = _base_.efficientnet_lite0_optim_wrapper
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
