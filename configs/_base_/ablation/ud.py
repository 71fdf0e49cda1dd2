# Row "UD" = TCC_multi+OM+UD (Table 1, 78.44): TCC_multi+OM plus pairs from
# unlabelled snippets (the protocol names where they are:
# data_prefix.unlabelled_img_path).
_row_ = dict(
    name='UD', table=1, metrics='all',
    model=dict(),
    train_dataset=dict(with_unlabelled=True))
