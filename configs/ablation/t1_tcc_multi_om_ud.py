# Table 1 "+TCC_multi+OM+UD" (78.44): unlabelled Cityscapes test sequences.
# The row is defined once, in configs/_base_/ablation/ud.py; this file
# applies it to the protocol psp_efc_cityscapes.py (= efc_mm.ablation.compose).
_base_ = ['../psp_efc_cityscapes.py', '../_base_/ablation/ud.py']
model = {{_base_._row_.model}}
train_dataloader = dict(dataset={{_base_._row_.train_dataset}})
