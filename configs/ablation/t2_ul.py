# Table 2 "UL" (KITTI 2015 train EPE noc/all 7.53/11.03): flow only,
# unsupervised L_pm + L_sm; no L_seg, no learnt occlusion, no O_error, no
# L_cons. Data: configs/_base_/datasets/kitti_flow.py.
_base_ = ['./t2_full.py']
no_seg = dict(loss_decode=dict(loss_weight=0.0))
model = dict(
    decode_head=no_seg, auxiliary_head=no_seg, loss_consistency=None,
    flow_decoder=dict(
        loss_photometric=dict(occlusion_weighting=False, seg_error=False),
        loss_occlusion=None))
