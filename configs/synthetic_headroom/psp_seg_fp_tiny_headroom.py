# Issue 18 control (docs/experiments.md M11): the feature-perturbation
# consistency of psp_efc_fp_tiny_headroom.py without any flow: the
# segmentor alone (no flow branch, as psp_seg_twostream_tiny_headroom.py,
# on the same two-stream batches), its dropped-out decode taught the argmax
# of its own clean prediction of the *same* frame (target='self'; UniMatch's
# feature perturbation, a FixMatch-style pseudo-label). What EFC's temporal
# partner adds is the difference between the two.
#   python tools/train.py \
#       configs/synthetic_headroom/psp_seg_fp_tiny_headroom.py
_base_ = ['./psp_efc_tiny_headroom.py']
model = dict(
    flow_decoder=None,
    losses=dict(consistency=dict(
        _delete_=True, type='OutputConsistencyLoss', divergence='ce',
        confidence=0.9, feature_dropout=0.5, loss_weight=1.0,
        target='self', occlusion_mask=False)))
val_evaluator = _base_.synthetic_seg_metrics
test_evaluator = _base_.synthetic_seg_metrics
