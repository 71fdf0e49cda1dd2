# Table 1, "+TCC_fix" (77.02): temporal consistency with a *fixed* pretrained
# flow network. The flow branch (its own frozen copy of the shared encoder +
# the flow decoder) is loaded from `flow_checkpoint` -- a flow-only model,
# e.g. trained with configs/ablation/t2_ul.py -- and frozen; only L_seg and
# L_cons (no occlusion mask) train the segmentor.
_base_ = ['../psp_efc_cityscapes.py']
model = dict(
    train_cfg=dict(
        freeze_flow=True,
        # the last checkpoint of t2_ul.py (120k schedule; save_last keeps it)
        flow_checkpoint='work_dirs/t2_ul/iter_120000.pth',
        with_flow_loss=False,
        with_occlusion=False,
        with_seg_occ_error=False,
        with_consistency=True,
        consistency_occ_mask=False))
train_dataloader = dict(dataset=dict(pairs_per_snippet=1,
                                     with_unlabelled=False))
