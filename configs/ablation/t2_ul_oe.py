# Table 2 "UL+OE" (7.23/8.72): UL + O_error from the segmentation (eq. 5),
# which L_seg trains (on pseudo labels: tools/pseudo_label.py).
_base_ = ['./t2_full.py']
model = dict(
    loss_consistency=None,
    flow_decoder=dict(loss_photometric=dict(occlusion_weighting=False),
                      loss_occlusion=None))
