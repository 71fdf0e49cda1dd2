# EFC (Ding et al., AAAI 2020) with PSPNet ResNetV1c-50-D8: mmseg's
# pspnet_r50-d8 model (restated here rather than inherited, so that a config
# of a protocol and a row stays within three levels of _base_) + the flow
# branch on the shared encoder (stem + layers 1-3) + the EFC objective: the
# flow decoder's losses and L_cons.
# BN note: PSPHead's pool scale 1 gives a 1x1 map per image, which BatchNorm
# cannot normalise with one image; EFC's loss() runs the seg tail on all 2B
# frames of a pair batch, so even one pair per GPU gives 2 values per channel
# (the paper: batch 16, synchronised BN).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='PairSegDataPreProcessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
# CE averaged over labelled pixels only (avg_non_ignore): a pair with one
# unlabelled frame (all 255) keeps the labelled frame's loss at full
# magnitude.
model = dict(
    type='EFCSegmentor',
    data_preprocessor=data_preprocessor,
    pretrained='open-mmlab://resnet50_v1c',
    backbone=dict(
        type='ResNetV1c', depth=50, num_stages=4, out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg=norm_cfg,
        norm_eval=False, style='pytorch', contract_dilation=True),
    decode_head=dict(
        type='PSPHead', in_channels=2048, in_index=3, channels=512,
        pool_scales=(1, 2, 3, 6), dropout_ratio=0.1, num_classes=19,
        norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0, avg_non_ignore=True)),
    auxiliary_head=dict(
        type='FCNHead', in_channels=1024, in_index=2, channels=256,
        num_convs=1, concat_input=False, dropout_ratio=0.1, num_classes=19,
        norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=0.4, avg_non_ignore=True)),
    # shared encoder = stem + layer1-3 (pyramid levels 0..3, strides 2,4,8,8)
    shared_stages='layer3',
    flow_decoder=dict(
        type='EFCFlowDecoder',
        in_channels=(64, 256, 512, 1024),
        losses=dict(                  # the flow-only losses it owns
            photometric=dict(type='PhotometricLoss'),  # eq. 5-6, L_pm
            smoothness=dict(type='SmoothnessLoss'),    # eq. 7, L_sm
            occlusion=dict(type='OcclusionLoss'))),    # eq. 4, L_occ
    # losses across the two branches: L_cons (eq. 2), after the flow's
    # warm-up (iterations at this scale; the CPU configs use fractions)
    losses=dict(consistency=dict(
        type='FeatureConsistencyLoss',
        weight_schedule=dict(begin=3000, end=5000))),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# norm_cfg only serves the dicts above: not a top-level key of any config
# (a child that changes the model's norm would otherwise dump a contradiction)
del norm_cfg
