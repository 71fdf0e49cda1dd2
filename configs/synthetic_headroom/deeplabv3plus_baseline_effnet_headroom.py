# The baseline row of deeplabv3plus_efc_effnet_headroom.py: DeepLabv3+ on the
# pretrained EfficientNet-Lite0 without the flow branch, on the 6 labelled
# snippets (the loader of psp_baseline_effnet_headroom.py).
_base_ = ['./psp_efc_tiny_headroom.py', '../_base_/ablation/baseline.py',
          '../_base_/models/efficientnet_lite0_encoder.py']
model = dict(_base_.efficientnet_lite0_tiny_model,
             decode_head=dict(_base_.efficientnet_lite0_tiny_aspp_head,
                              num_classes=19),
             **_base_._row_.model)
optim_wrapper = _base_.efficientnet_lite0_optim_wrapper
train_dataloader = dict(
    batch_size=4,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.labelled_snippets,
                 **_base_._row_.train_dataset))  # the row's pair draw
val_evaluator = _base_.synthetic_seg_metrics
test_evaluator = _base_.synthetic_seg_metrics
