# The oracle row of the "+ 367 train images" variant
# (psp_efc_effnet_camvid_headroom_train367.py): psp_oracle_effnet_camvid_
# headroom.py's labels of the sequence (every 5th frame) plus the 367
# train/ images, 2 + 2 pairs per batch.
_base_ = ['../camvid_sparse/psp_efc_tiny_camvid_sparse.py',
          '../_base_/ablation/baseline.py',
          '../_base_/models/efficientnet_lite0_encoder.py']
model = dict(_base_.efficientnet_lite0_tiny_model, **_base_._row_.model)
optim_wrapper = _base_.efficientnet_lite0_optim_wrapper
label_split = dict(stride=5, offset=0, held_out_stride=5)
train_dataloader = _base_.camvid_train367_loader
