# Row "TCC_multi+OM" (Table 1, 78.07): the protocol's pairs per snippet (the
# paper: ten), no unlabelled snippets; every loss of the model base.
_row_ = dict(
    name='TCC_multi+OM', table=1, metrics='all',
    model=dict(),
    train_dataset=dict(with_unlabelled=False))
