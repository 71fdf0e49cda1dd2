# Exploration row (not in the paper): TCC_multi_OM_unl with every training
# pair at gap t = 1 (max_gap=1; the protocol draws t in [1, 5]). The training
# snippets move fast (zero-flow EPE 7.30 px at t = 1 against 2.96 on the val
# snippets), so at t up to 5 the learnt flow is poor where L_cons warps with
# it; at t = 1 the flow is asked for small motions only and L_cons's targets
# are better aligned.
_base_ = ['./psp_efc_tiny_synthetic_tcc_multi_om_unl.py']
train_dataloader = dict(dataset=dict(max_gap=1))
