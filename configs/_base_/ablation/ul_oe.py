# Row "UL+OE" (Table 2, 7.23/8.72): UL + O_error from the segmentation (eq.
# 5), which L_seg trains (on pseudo labels in the paper's KITTI protocol).
_row_ = dict(
    name='UL+OE', table=2, metrics='all',
    model=dict(
        losses=None,
        flow_decoder=dict(losses=dict(
            photometric=dict(occlusion_weighting=False, grad_to=['flow']),
            occlusion=None))),
    train_dataset=dict())
