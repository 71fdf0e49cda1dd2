# Exploration row "no_cons" (not in the paper): TCC_multi+OM without L_cons:
# what the flow branch alone (shared encoder, O_error) does to segmentation.
_row_ = dict(
    name='no_cons', table=0, metrics='all',
    model=dict(losses=None),
    train_dataset=dict(with_unlabelled=False))
