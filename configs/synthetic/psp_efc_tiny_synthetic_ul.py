# Row "UL": flow only (L_pm + L_sm), no L_seg, no learnt occlusion, no
# O_error, no L_cons; all pairs of the train snippets and the UD snippets.
_base_ = ['./psp_efc_tiny_synthetic.py']
no_seg = dict(loss_decode=dict(loss_weight=0.0))
model = dict(
    decode_head=no_seg, auxiliary_head=no_seg, loss_consistency=None,
    flow_decoder=dict(
        loss_photometric=dict(occlusion_weighting=False, seg_error=False),
        loss_occlusion=None))
