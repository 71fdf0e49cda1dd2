# Table 2 "UL" (KITTI 2015 train EPE noc/all 7.53/11.03).
# The row is defined once, in configs/_base_/ablation/ul.py; this file
# applies it to the protocol t2_full.py (= efc_mm.ablation.compose).
_base_ = ['./t2_full.py', '../_base_/ablation/ul.py']
model = {{_base_._row_.model}}
train_dataloader = dict(dataset={{_base_._row_.train_dataset}})
