# Row "baseline" (Table 1, PSPNet-R50 76.20): the segmentor without the flow
# branch, L_seg on the labelled frames only; every training pair holds the
# labelled frame (one pair per snippet, as many labelled frames per step as
# it can get).
_row_ = dict(
    name='baseline', table=1, metrics='seg',
    model=dict(flow_decoder=None, losses=None),
    train_dataset=dict(pairs_per_snippet=1, labelled_pairs=1,
                       with_unlabelled=False))
