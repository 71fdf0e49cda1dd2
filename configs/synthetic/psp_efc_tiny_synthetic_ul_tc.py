# Row "UL+TC": UL + L_cons (no occlusion mask); segmentation trained.
_base_ = ['./psp_efc_tiny_synthetic.py']
model = dict(
    loss_consistency=dict(occlusion_mask=False),
    flow_decoder=dict(
        loss_photometric=dict(occlusion_weighting=False, seg_error=False),
        loss_occlusion=None))
