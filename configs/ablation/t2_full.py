# Table 2, "full" (3.93/7.05): the whole method -- UL+OE+TC plus the learnt
# occlusion (O_est in eq. 6, L_occ eq. 4, (1 - O_est) mask in L_cons).
_base_ = ['./t2_ul.py']
model = dict(
    train_cfg=dict(with_seg_loss=True, with_occlusion=True,
                   with_seg_occ_error=True, with_consistency=True,
                   consistency_occ_mask=True))
