# Table 2 "UL+TC" (4.94/8.84): UL + L_cons (eq. 2, no occlusion mask),
# whose gradient also reaches the flow; segmentation trained (pseudo labels).
_base_ = ['./t2_full.py']
model = dict(
    loss_consistency=dict(occlusion_mask=False),
    flow_decoder=dict(
        loss_photometric=dict(occlusion_weighting=False, seg_error=False),
        loss_occlusion=None))
