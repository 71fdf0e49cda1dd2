# Row "TCC_single": one pair per snippet (labelled frame + a neighbour), no UD,
# L_cons without the occlusion mask.
_base_ = ['./psp_efc_tiny_synthetic.py']
model = dict(loss_consistency=dict(occlusion_mask=False))
train_dataloader = dict(dataset=dict(pairs_per_snippet=1,
                                     with_unlabelled=False))
