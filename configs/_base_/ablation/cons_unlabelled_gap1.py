# Exploration row "TCC_multi+OM_unl_gap1" (not in the paper):
# TCC_multi+OM_unl with training pairs at t = 1 only (the synthetic training
# snippets move 2.5x faster than the val ones).
_row_ = dict(
    name='TCC_multi+OM_unl_gap1', table=0, metrics='all',
    model=dict(losses=dict(consistency=dict(frames='unlabelled'))),
    train_dataset=dict(with_unlabelled=False, max_gap=1))
