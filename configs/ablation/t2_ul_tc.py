# Table 2 "UL+TC" (4.94/8.84): L_cons trains the flow too.
# The row is defined once, in configs/_base_/ablation/ul_tc.py; this file
# applies it to the protocol t2_full.py (= efc_mm.ablation.compose).
_base_ = ['./t2_full.py', '../_base_/ablation/ul_tc.py']
model = {{_base_._row_.model}}
train_dataloader = dict(dataset={{_base_._row_.train_dataset}})
