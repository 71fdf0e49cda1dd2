# Exploration row "TCC_multi+OM_unl" (not in the paper): TCC_multi+OM with
# L_cons on the frames without a label only (a labelled frame is taught by
# its label, not by its neighbour).
_row_ = dict(
    name='TCC_multi+OM_unl', table=0, metrics='all',
    model=dict(losses=dict(consistency=dict(frames='unlabelled'))),
    train_dataset=dict(with_unlabelled=False))
