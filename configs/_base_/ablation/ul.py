# Row "UL" (Table 2, 7.53/11.03): flow only, unsupervised L_pm + L_sm; no
# L_seg (loss weight 0 on every head), no learnt occlusion, no O_error, no
# L_cons.
_no_seg = dict(loss_decode=dict(loss_weight=0.0))
_row_ = dict(
    name='UL', table=2, metrics='flow',
    model=dict(
        decode_head=_no_seg, auxiliary_head=_no_seg, losses=None,
        flow_decoder=dict(losses=dict(
            photometric=dict(occlusion_weighting=False, seg_error=False,
                             grad_to=['flow']),
            occlusion=None))),
    train_dataset=dict())
