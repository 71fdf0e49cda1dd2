# Table 2, "UL" (KITTI 2015 train EPE noc/all 7.53/11.03 in the paper): flow
# only, unsupervised (L_pm + L_sm), no segmentation loss, no learnt
# occlusion, no O_error, no temporal consistency.
# Our reading of Table 2: the UL* rows do not use the occlusion head; "full"
# adds it (O_est in eq. 6, L_occ, OM).
# Data: KITTI (see configs/_base_/datasets/kitti_flow.py): unsupervised pairs
# with the 2015 training scenes excluded, evaluation on KITTI 2015 training
# (EPE noc / all, Fl-all). The rows that use segmentation (OE, TC, full) need
# pseudo labels from a Cityscapes model (data_prefix.seg_map_path), as in the
# paper; without them their segmentation terms see only all-255 frames.
_base_ = [
    '../_base_/models/psp_efc_r50-d8.py', '../_base_/datasets/kitti_flow.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_120k.py'
]
crop_size = (320, 896)
model = dict(
    data_preprocessor=dict(size=crop_size),
    train_cfg=dict(
        with_seg_loss=False,
        with_flow_loss=True,
        with_occlusion=False,
        with_seg_occ_error=False,
        with_consistency=False,
        consistency_occ_mask=False))
