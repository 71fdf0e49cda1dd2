# Row "TCC_single+OM" (Table 1, 77.79): TCC_single with L_cons masked by the
# learnt occlusion (1 - O_est).
_row_ = dict(
    name='TCC_single+OM', table=1, metrics='all',
    model=dict(),
    train_dataset=dict(pairs_per_snippet=1, with_unlabelled=False))
