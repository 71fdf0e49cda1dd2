# Exploration row (not in the paper): TCC_multi+OM with L_cons applied to the
# frames without a label only (frames='unlabelled').
_base_ = ['./psp_efc_tiny_synthetic_tcc_multi_om.py']
model = dict(loss_consistency=dict(frames='unlabelled'))
