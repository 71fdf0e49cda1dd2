# Exploration row (not in the paper): TCC_multi+OM with L_cons on the
# unlabelled frames only (as TCC_multi_OM_unl), but the flow branch reads its
# own trainable copy of the encoder stages (``flow_encoder``) instead of the
# segmentor's: flow and segmentation still train together through L_cons and
# O_error, but the flow losses no longer reach the segmentor's encoder.
# Separates "what sharing the tiny encoder with the flow costs" from "what
# consistency through the flow gives".
_base_ = ['./psp_efc_tiny_synthetic_tcc_multi_om_unl.py']
model = dict(flow_encoder=dict())
