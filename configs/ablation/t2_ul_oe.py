# Table 2, "UL+OE" (7.23/8.72): + O_error from the segmentation (eq. 5); the
# segmentation branch is trained (L_seg) so that O_seg is meaningful.
_base_ = ['./t2_ul.py']
model = dict(train_cfg=dict(with_seg_loss=True, with_seg_occ_error=True))
