# Table 1, "+TCC_multi+OM+UD" (78.44): additionally unlabelled data (pairs
# of snippets' unlabelled frames; both frames all-255, so only the EFC
# losses train on them).
_base_ = ['./t1_tcc_multi_om.py']
# Unlabelled snippets: the Cityscapes *test* sequences (no gtFine). Every
# train sequence already belongs to a labelled snippet.
train_dataloader = dict(
    dataset=dict(
        with_unlabelled=True,
        data_prefix=dict(
            img_path='leftImg8bit_sequence/train',
            seg_map_path='gtFine/train',
            unlabelled_img_path='leftImg8bit_sequence/test')))
