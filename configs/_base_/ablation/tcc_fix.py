# Row "TCC_fix" (Table 1, 77.02): L_cons (no occlusion mask) through a *fixed*
# pretrained flow network: a frozen copy of the encoder + the flow decoder,
# both loaded from a flow-only (UL row) checkpoint, given by the environment
# variable EFC_FLOW_CHECKPOINT (the benches set it per seed); one pair per
# snippet. The consistency term trains the segmentation only (a frozen flow
# has nothing to train).
_row_ = dict(
    name='TCC_fix', table=1, metrics='seg',
    model=dict(
        flow_encoder=dict(init_cfg=dict(
            type='PretrainedPart', prefix='backbone.',
            checkpoint='{{$EFC_FLOW_CHECKPOINT:work_dirs/UL/iter_last.pth}}')),
        flow_decoder=dict(
            frozen=True,
            losses=dict(photometric=None, smoothness=None, occlusion=None),
            init_cfg=dict(
                type='PretrainedPart', prefix='flow_decoder.',
                checkpoint='{{$EFC_FLOW_CHECKPOINT:work_dirs/UL/iter_last.pth}}')),
        losses=dict(consistency=dict(occlusion_mask=False, grad_to=['seg']))),
    train_dataset=dict(pairs_per_snippet=1, with_unlabelled=False))
