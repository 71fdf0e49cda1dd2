# Table 2 "UL+OE+TC" (4.51/7.79).
# The row is defined once, in configs/_base_/ablation/ul_oe_tc.py; this file
# applies it to the protocol t2_full.py (= efc_mm.ablation.compose).
_base_ = ['./t2_full.py', '../_base_/ablation/ul_oe_tc.py']
model = {{_base_._row_.model}}
train_dataloader = dict(dataset={{_base_._row_.train_dataset}})
