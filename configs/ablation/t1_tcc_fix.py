# Table 1 "+TCC_fix" (77.02); set EFC_FLOW_CHECKPOINT to the t2_ul.py checkpoint.
# The row is defined once, in configs/_base_/ablation/tcc_fix.py; this file
# applies it to the protocol psp_efc_cityscapes.py (= efc_mm.ablation.compose).
_base_ = ['../psp_efc_cityscapes.py', '../_base_/ablation/tcc_fix.py']
model = {{_base_._row_.model}}
train_dataloader = dict(dataset={{_base_._row_.train_dataset}})
