# "A labelled set plus unlabelled video" (issue 17):
# psp_efc_effnet_camvid_headroom.py with CamVid's 367 train/ images as a
# second labelled source (camvid_train367_loader of
# configs/_base_/datasets/camvid_sparse.py): every batch of 4 holds 2 pairs
# of the 15 Hz sequence protocol and 2 pairs of train/ frames (labelled
# neighbours about 1 s apart: EFC's flow losses see those large motions
# too). Same evaluation (the 80 frames of the sequence off stride 5).
_base_ = ['../camvid_sparse/psp_efc_tiny_camvid_sparse.py',
          '../_base_/models/efficientnet_lite0_encoder.py']
model = dict(_base_.efficientnet_lite0_tiny_model,
             flow_decoder=_base_.efficientnet_lite0_flow_levels)
optim_wrapper = _base_.efficientnet_lite0_optim_wrapper
label_split = dict(stride=15, offset=0, held_out_stride=5)
train_dataloader = _base_.camvid_train367_loader
