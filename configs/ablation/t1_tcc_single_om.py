# Table 1, "+TCC_single+OM" (77.79): as TCC_single, L_cons masked by
# (1 - O_est) (EFC eq. 2).
_base_ = ['./t1_tcc_single.py']
model = dict(train_cfg=dict(consistency_occ_mask=True))
