# Table 1 "+TCC_single" (77.58): joint training, one pair per snippet (the
# labelled frame and one neighbour); L_cons without the occlusion mask.
_base_ = ['../psp_efc_cityscapes.py']
model = dict(loss_consistency=dict(occlusion_mask=False))
train_dataloader = dict(dataset=dict(pairs_per_snippet=1))
