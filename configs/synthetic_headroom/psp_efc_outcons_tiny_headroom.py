# Issue 18 exploration on the synthetic headroom protocol
# (psp_efc_tiny_headroom.py): the flow branch on its own trainable copy of
# the encoder stages (flow_encoder=dict(): the flow losses no longer reach
# the segmentor's encoder) and L_cons replaced by the output consistency of
# published video semi-supervised segmentation (OutputConsistencyLoss: KL to
# the partner's warped, detached softmax, pixels whose target confidence is
# >= 0.7, occlusion-masked, weight 0.1 ramped over 30 -> 50 % of the run).
# `--row no_cons` gives the same model without any consistency term.
#   python tools/train.py \
#       configs/synthetic_headroom/psp_efc_outcons_tiny_headroom.py
_base_ = ['./psp_efc_tiny_headroom.py']
model = dict(
    flow_encoder=dict(),
    losses=dict(consistency=dict(
        _delete_=True, type='OutputConsistencyLoss', divergence='kl',
        confidence=0.7, loss_weight=0.1)))
