# Row "UL+OE+TC" (Table 2, 4.51/7.79): UL+TC (./ul_tc.py: L_cons trains the
# flow too) with O_error from the segmentation in the photometric loss.
_base_ = ['./ul_tc.py']
_row_ = dict(
    name='UL+OE+TC',
    model=dict(flow_decoder=dict(losses=dict(
        photometric=dict(seg_error=True)))))
