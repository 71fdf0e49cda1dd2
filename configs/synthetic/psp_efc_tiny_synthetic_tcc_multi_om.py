# Row "TCC_multi+OM": ten pairs per snippet (five with the labelled frame),
# no unlabelled snippets.
_base_ = ['./psp_efc_tiny_synthetic.py']
train_dataloader = dict(dataset=dict(with_unlabelled=False))
