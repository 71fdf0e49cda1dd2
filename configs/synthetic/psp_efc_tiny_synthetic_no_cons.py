# Exploration row (not in the paper): TCC_multi+OM without L_cons, i.e. the
# segmentor and the flow branch only share the encoder (flow losses with
# O_error and learnt occlusion), to separate what L_cons costs from what
# sharing the encoder with the flow costs.
_base_ = ['./psp_efc_tiny_synthetic_tcc_multi_om.py']
model = dict(loss_consistency=None)
