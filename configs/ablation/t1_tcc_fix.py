# Table 1 "+TCC_fix" (77.02): L_cons (no mask) with a *fixed* pretrained flow
# network: a frozen copy of the encoder + the flow decoder, both loaded from a
# flow-only checkpoint (configs/ablation/t2_ul.py).
_base_ = ['../psp_efc_cityscapes.py']
ckpt = 'work_dirs/t2_ul/iter_120000.pth'
part = dict(type='PretrainedPart', checkpoint=ckpt)
model = dict(
    flow_encoder=dict(init_cfg=dict(part, prefix='backbone.')),
    flow_decoder=dict(frozen=True, loss_photometric=None, loss_smoothness=None,
                      loss_occlusion=None,
                      init_cfg=dict(part, prefix='flow_decoder.')),
    loss_consistency=dict(occlusion_mask=False))
train_dataloader = dict(dataset=dict(pairs_per_snippet=1))
