# Row "UL+OE+TC" (Table 2, 4.51/7.79): UL+TC with O_error from the
# segmentation in the photometric loss; L_cons trains the flow too.
_row_ = dict(
    name='UL+OE+TC', table=2, metrics='all',
    model=dict(
        losses=dict(consistency=dict(occlusion_mask=False,
                                     grad_to=['seg', 'flow'])),
        flow_decoder=dict(losses=dict(
            photometric=dict(occlusion_weighting=False, seg_error=True,
                             grad_to=['flow']),
            occlusion=None))),
    train_dataset=dict())
