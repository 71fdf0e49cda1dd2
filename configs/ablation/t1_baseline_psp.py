# Table 1 "baseline" (PSPNet-R50, Cityscapes val 76.20 in the paper): the
# same segmentor without the flow branch; only L_seg on the labelled frames.
_base_ = ['../psp_efc_cityscapes.py']
model = dict(flow_decoder=None, loss_consistency=None)
train_dataloader = dict(dataset=dict(pairs_per_snippet=1))
