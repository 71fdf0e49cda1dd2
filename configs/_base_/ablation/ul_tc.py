# Row "UL+TC" (Table 2, 4.94/8.84): UL + L_cons (eq. 2, no occlusion mask)
# whose gradient also reaches the flow (grad_to 'flow': "TC" trains the flow,
# as the paper's Table 2 says); segmentation trained, no O_error.
_row_ = dict(
    name='UL+TC', table=2, metrics='all',
    model=dict(
        losses=dict(consistency=dict(occlusion_mask=False,
                                     grad_to=['seg', 'flow'])),
        flow_decoder=dict(losses=dict(
            photometric=dict(occlusion_weighting=False, seg_error=False,
                             grad_to=['flow']),
            occlusion=None))),
    train_dataset=dict())
