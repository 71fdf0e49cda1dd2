# Table 2 "UL+OE" (7.23/8.72).
# The row is defined once, in configs/_base_/ablation/ul_oe.py; this file
# applies it to the protocol t2_full.py (= efc_mm.ablation.compose).
_base_ = ['./t2_full.py', '../_base_/ablation/ul_oe.py']
model = {{_base_._row_.model}}
train_dataloader = dict(dataset={{_base_._row_.train_dataset}})
