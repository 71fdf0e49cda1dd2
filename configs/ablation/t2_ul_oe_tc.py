# Table 2, "UL+OE+TC" (4.51/7.79).
_base_ = ['./t2_ul.py']
model = dict(train_cfg=dict(with_seg_loss=True, with_seg_occ_error=True,
                            with_consistency=True))
