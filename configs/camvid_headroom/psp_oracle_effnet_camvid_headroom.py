# CamVid headroom protocol, oracle row: the baseline
# (psp_baseline_effnet_camvid_headroom.py) with every 5th frame labelled (21
# of 101, three times the labels), scored on the same 80 frames off stride
# 5; oracle - baseline bounds what the unlabelled frames between the labels
# can add (bench/headroom.py).
_base_ = ['../camvid_sparse/psp_efc_tiny_camvid_sparse.py',
          '../_base_/ablation/baseline.py',
          '../_base_/models/efficientnet_lite0_encoder.py']
model = dict(_base_.efficientnet_lite0_tiny_model, **_base_._row_.model)
optim_wrapper = _base_.efficientnet_lite0_optim_wrapper
label_split = dict(stride=5, offset=0, held_out_stride=5)
