# Table 2, "UL+TC" (4.94/8.84): + temporal consistency L_cons (eq. 2), whose
# gradient also reaches the flow; segmentation trained.
_base_ = ['./t2_ul.py']
model = dict(train_cfg=dict(with_seg_loss=True, with_consistency=True))
