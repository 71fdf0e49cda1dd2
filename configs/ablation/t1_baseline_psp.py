# Table 1 "baseline" (PSPNet-R50, Cityscapes val 76.20 in the paper).
# The row is defined once, in configs/_base_/ablation/baseline.py; this file
# applies it to the protocol psp_efc_cityscapes.py (= efc_mm.ablation.compose).
_base_ = ['../psp_efc_cityscapes.py', '../_base_/ablation/baseline.py']
model = {{_base_._row_.model}}
train_dataloader = dict(dataset={{_base_._row_.train_dataset}})
