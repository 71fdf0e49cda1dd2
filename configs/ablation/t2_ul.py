# Table 2, "UL" (KITTI 2015 EPE noc/all 7.53/11.03 in the paper): flow only,
# unsupervised (L_pm + L_sm), no segmentation loss, no learnt occlusion, no
# O_error, no temporal consistency.
# Our reading of Table 2: the UL* rows do not use the occlusion head; "full"
# adds it (O_est in eq. 6, L_occ, OM). The paper trains these on KITTI raw
# frames with Cityscapes pseudo-labels; swap the dataset base for that.
_base_ = ['../psp_efc_cityscapes.py']
model = dict(
    train_cfg=dict(
        with_seg_loss=False,
        with_flow_loss=True,
        with_occlusion=False,
        with_seg_occ_error=False,
        with_consistency=False,
        consistency_occ_mask=False))
train_dataloader = dict(dataset=dict(pairs_per_snippet=10,
                                     with_unlabelled=True))
