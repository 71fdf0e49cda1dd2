# Table 1, row "baseline" (PSPNet-R50, Cityscapes val 76.20 in the paper):
# the same segmentor without the flow branch. It still reads pairs, but with
# flow_decoder=None only L_seg on the labelled frames is trained (the other
# frame carries all-255 labels and is ignored).
_base_ = ['../psp_efc_cityscapes.py']
model = dict(flow_decoder=None)
train_dataloader = dict(dataset=dict(pairs_per_snippet=1,
                                     with_unlabelled=False))
