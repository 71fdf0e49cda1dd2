# Table 1, "+TCC_multi+OM" (78.07): ten pairs per 30-frame snippet, five of
# which contain the labelled frame (EFC "Training protocol").
_base_ = ['../psp_efc_cityscapes.py']
model = dict(train_cfg=dict(with_consistency=True,
                            consistency_occ_mask=True))
train_dataloader = dict(dataset=dict(pairs_per_snippet=10,
                                     with_unlabelled=False))
