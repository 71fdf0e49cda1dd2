# Row "TCC_single+OM": TCC_single with the (1 - O_est) mask in L_cons.
_base_ = ['./psp_efc_tiny_synthetic.py']
train_dataloader = dict(dataset=dict(pairs_per_snippet=1,
                                     with_unlabelled=False))
