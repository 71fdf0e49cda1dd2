# Table 1 "+TCC_multi+OM+UD" (78.44): TCC_multi+OM (../psp_efc_cityscapes.py)
# plus unlabelled data: pairs from the Cityscapes *test* sequences (no
# gtFine; both frames all-255, so only the EFC losses train on them).
_base_ = ['../psp_efc_cityscapes.py']
train_dataloader = dict(dataset=dict(
    with_unlabelled=True,
    data_prefix=dict(unlabelled_img_path='leftImg8bit_sequence/test')))
