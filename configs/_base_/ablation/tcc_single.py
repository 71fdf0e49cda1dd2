# Row "TCC_single" (Table 1, 77.58): one pair per snippet (the labelled frame
# and a neighbour), no unlabelled snippets, L_cons without the occlusion mask.
_row_ = dict(
    name='TCC_single', table=1, metrics='all',
    model=dict(losses=dict(consistency=dict(occlusion_mask=False))),
    train_dataset=dict(pairs_per_snippet=1, with_unlabelled=False))
