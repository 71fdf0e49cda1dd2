# Table 2 "UL+OE+TC" (4.51/7.79): UL+TC plus O_error (eq. 5).
_base_ = ['./t2_ul_tc.py']
model = dict(flow_decoder=dict(loss_photometric=dict(seg_error=True)))
