# EFC with DeepLabv3+ ResNetV1c-50-D8: psp_efc_r50-d8.py (same backbone, flow
# branch and objective) with mmseg's deeplabv3plus_r50-d8 decode head. BN
# note: the ASPP image pool is 1x1 per image; EFC's loss() runs 2B frames,
# so one pair already gives BatchNorm two values.
_base_ = ['./psp_efc_r50-d8.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='DepthwiseSeparableASPPHead', in_channels=2048, in_index=3,
        channels=512, dilations=(1, 12, 24, 36), c1_in_channels=256,
        c1_channels=48, dropout_ratio=0.1, num_classes=19,
        norm_cfg=dict(type='SyncBN', requires_grad=True), align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0, avg_non_ignore=True)))
