# Table 1, "+TCC_multi+OM+UD" (78.44): additionally unlabelled data (pairs
# of snippets' unlabelled frames; both frames all-255, so only the EFC
# losses train on them).
_base_ = ['./t1_tcc_multi_om.py']
train_dataloader = dict(dataset=dict(with_unlabelled=True))
