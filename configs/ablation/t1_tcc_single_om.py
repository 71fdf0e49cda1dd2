# Table 1 "+TCC_single+OM" (77.79): as TCC_single, L_cons masked by
# (1 - O_est) (eq. 2). "+TCC_multi+OM" (78.07) is ../psp_efc_cityscapes.py
# itself (ten pairs per snippet, five with the labelled frame).
_base_ = ['../psp_efc_cityscapes.py']
train_dataloader = dict(dataset=dict(pairs_per_snippet=1))
