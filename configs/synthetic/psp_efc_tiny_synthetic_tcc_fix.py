# Row "TCC_fix": L_cons (no mask) with a fixed flow network: a frozen copy of
# the encoder + flow decoder loaded from the UL row's checkpoint of the same
# seed (bench/efc_ablation.py sets flow_ckpt); one pair per snippet.
_base_ = ['./psp_efc_tiny_synthetic_tcc_single.py']
flow_ckpt = 'work_dirs/ablation/UL_it1000_s0/iter_1000.pth'
model = dict(
    flow_encoder=dict(init_cfg=dict(type='PretrainedPart',
                                    checkpoint=flow_ckpt, prefix='backbone.')),
    flow_decoder=dict(
        frozen=True, loss_photometric=None, loss_smoothness=None,
        loss_occlusion=None, init_cfg=dict(
            type='PretrainedPart', checkpoint=flow_ckpt,
            prefix='flow_decoder.')))
