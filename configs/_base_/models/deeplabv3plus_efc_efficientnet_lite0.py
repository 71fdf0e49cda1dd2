# EFC with DeepLabv3+ on an ImageNet-pretrained EfficientNet-Lite0 (Tan & Le,
# ICML 2019), output stride 8: deeplabv3plus_efc_r50-d8.py with the backbone,
# the head widths and the flow decoder's encoder levels replaced (losses
# unchanged). Weights and stages: see psp_efc_efficientnet_lite0.py.
_base_ = ['./deeplabv3plus_efc_r50-d8.py',
           './efficientnet_lite0_encoder.py']
effnet_norm_cfg = dict(type='SyncBN', eps=1e-3, requires_grad=True)
model = dict(
    pretrained=_base_.efficientnet_lite0_pretrained,
    backbone=dict(_delete_=True, norm_cfg=effnet_norm_cfg,
                  **_base_.efficientnet_lite0_backbone),
    # ASPP on block7 (320 ch, stride 8), decoder skip from block2 (24 ch,
    # stride 4; mmseg's MobileNetV2 DeepLabv3+ layout), auxiliary FCN on
    # block5
    decode_head=dict(in_channels=320, in_index=3, channels=128,
                     c1_in_channels=24, c1_channels=48),
    auxiliary_head=dict(in_channels=112, in_index=2, channels=64),
    shared_stages='block5',
    flow_decoder=_base_.efficientnet_lite0_flow_levels)
