# EFC (Ding et al., AAAI 2020) with PSPNet ResNetV1c-50-D8 (mmseg's
# pspnet_r50-d8 + the flow branch on the shared encoder stem + layers 1-3).
# BN note: PSPHead's pool scale 1 (and DeepLabv3+'s image pool) give a 1x1
# map per image, which BatchNorm cannot normalise with one image; EFC's
# loss() runs the seg tail on all 2B frames of a pair batch, so even one pair
# per GPU gives 2 values per channel (the paper: batch 16, synchronised BN).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='PairSegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
# CE averaged over labelled pixels only: a pair with one unlabelled frame
# (all 255) keeps the labelled frame's loss at full magnitude.
ce_loss = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
               avg_non_ignore=True)
model = dict(
    type='EFCSegmentor',
    data_preprocessor=data_preprocessor,
    pretrained='open-mmlab://resnet50_v1c',
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='PSPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=ce_loss),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(ce_loss, loss_weight=0.4)),
    # shared encoder = stem + layer1-3 (pyramid levels 0..3, strides 2,4,8,8)
    shared_stages='layer3',
    flow_decoder=dict(
        type='EFCFlowDecoder',
        in_channels=(64, 256, 512, 1024),
        in_index=(0, 1, 2, 3),
        in_strides=(2, 4, 8, 8),
        corr_channels=256,
        max_displacement=10,
        dilation_patch=2,
        redir_channels=32,
        fuse_channels=256,
        contract_channels=(512, 512),
        skip_channels=64,
        deconv_channels=(256, 128, 64),
        min_stride=4,
        occ_mid_channels=32,
        flow_scale=1.0),
    # paper defaults: L = L_seg + 10 L_cons + 0.4 L_occ + 0.5 L_sm + L_pm
    efc_losses=dict(
        photometric=dict(type='PhotometricLoss', beta=0.85, loss_weight=1.0),
        smoothness=dict(type='SmoothnessLoss', loss_weight=0.5),
        consistency=dict(type='FeatureConsistencyLoss', loss_weight=10.0),
        occlusion=dict(type='OcclusionLoss', alpha=0.2, loss_weight=0.4)),
    train_cfg=dict(
        with_seg_loss=True,
        with_flow_loss=True,
        with_occlusion=True,
        with_consistency=True,
        consistency_occ_mask=True,
        with_seg_occ_error=True,
        freeze_flow=False,
        flow_checkpoint=None,
        flow_loss_levels=None,
        consistency_level=-1,
        occ_threshold=0.2),
    test_cfg=dict(mode='whole'))
