# Row "full" (Table 2, KITTI EPE noc/all 3.93/7.05): the whole method, every
# loss of the model base with the protocol's own data (UL + OE + TC + the
# learnt occlusion: O_est in eq. 5, L_occ eq. 4, (1 - O_est) in L_cons).
_row_ = dict(name='full', table=2, metrics='all', model=dict(),
             train_dataset=dict())
