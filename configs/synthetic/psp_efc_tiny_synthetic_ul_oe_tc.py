# Row "UL+OE+TC": UL+TC plus O_error (eq. 5).
_base_ = ['./psp_efc_tiny_synthetic_ul_tc.py']
model = dict(flow_decoder=dict(loss_photometric=dict(seg_error=True)))
