# EFC with the Dilation network (Yu & Koltun, ICLR 2016): VGG-16 front end
# (pool4/pool5 removed, conv5 dilation 2, fc6 7x7 dilation 4, fc7 1x1,
# output stride 8) + context module. Default: Dilation10 (Cityscapes,
# dilations 1,1,2,4,8,16,32,64,1 + 1x1); configs/dilation8_efc_camvid.py
# switches to Dilation8 (1,1,2,4,8,16,1 + 1x1).
# Shared encoder = front end up to conv4 (levels conv1..conv4, strides
# 2,4,8,8). Pretrained: the ImageNet VGG-16 (Caffe ILSVRC-2014 model of
# Simonyan & Zisserman, as in fyu/dilation; equivalently torchvision
# vgg16 IMAGENET1K_V1 with fc6/fc7 reshaped to 7x7 / 1x1 convs), converted
# to this module's names (README, "VGG-16 front-end weights") and given as
# `pretrained` below, as mmseg's ResNet configs do: `model.pretrained=None`
# switches it off.
data_preprocessor = dict(
    type='PairSegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EFCSegmentor',
    data_preprocessor=data_preprocessor,
    pretrained='pretrain/vgg16_dilation_frontend.pth',
    backbone=dict(
        type='DilatedVGG16',
        widths=(64, 128, 256, 512, 512),
        fc_channels=4096,
        out_indices=(5, ),
        dropout=0.5),
    decode_head=dict(
        type='ContextModuleHead',
        in_channels=4096,
        in_index=0,
        channels=19,  # C = number of classes (basic context module)
        dilations=(1, 1, 2, 4, 8, 16, 32, 64, 1),
        identity_init=True,
        dropout_ratio=0.0,
        num_classes=19,
        norm_cfg=None,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0, avg_non_ignore=True)),
    shared_stages='conv4',
    flow_decoder=dict(
        type='EFCFlowDecoder',
        in_channels=(64, 128, 256, 512),
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
