# The baseline row of deeplabv3plus_efc_effnet_camvid_headroom.py: DeepLabv3+
# on the pretrained EfficientNet-Lite0 without the flow branch, on the 7
# labelled frames, scored on the frames off stride 5.
_base_ = ['../camvid_sparse/psp_efc_tiny_camvid_sparse.py',
          '../_base_/ablation/baseline.py',
          '../_base_/models/efficientnet_lite0_encoder.py']
model = dict(_base_.efficientnet_lite0_tiny_model,
             decode_head=dict(_base_.efficientnet_lite0_tiny_aspp_head,
                              num_classes=11),
             **_base_._row_.model)
optim_wrapper = _base_.efficientnet_lite0_optim_wrapper
label_split = dict(stride=15, offset=0, held_out_stride=5)
