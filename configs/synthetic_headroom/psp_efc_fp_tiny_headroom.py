# Issue 18 (docs/experiments.md M9-M10): EFC on the synthetic headroom
# protocol (psp_efc_tiny_headroom.py) with its consistency made a
# pseudo-label from the warped partner: the decode head re-run on the
# frame's features after channel dropout (feature perturbation, UniMatch,
# Yang et al. CVPR 2023) is taught the argmax of the partner's clean,
# detached prediction warped by the flow, where that prediction is
# confident (>= 0.9) and not occluded; weight 1 ramped over 30 -> 50 % of
# the run (the flow's warm-up).
#   python tools/train.py \
#       configs/synthetic_headroom/psp_efc_fp_tiny_headroom.py
_base_ = ['./psp_efc_tiny_headroom.py']
model = dict(
    losses=dict(consistency=dict(
        _delete_=True, type='OutputConsistencyLoss', divergence='ce',
        confidence=0.9, feature_dropout=0.5, loss_weight=1.0)))
