# EFC with DeepLabv3+ ResNetV1c-50-D8: mmseg's own deeplabv3plus_r50-d8 base
# + the same flow branch and losses as psp_efc_r50-d8.py. BN note: the ASPP
# image pool is 1x1 per image; EFC's loss() runs 2B frames, so one pair
# already gives BatchNorm two values.
_base_ = ['mmseg::_base_/models/deeplabv3plus_r50-d8.py', './efc_losses.py']
data_preprocessor = dict(type='PairSegDataPreProcessor')
model = dict(
    type='EFCSegmentor',
    data_preprocessor=data_preprocessor,
    decode_head=dict(loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=dict(loss_decode=dict(avg_non_ignore=True)),
    shared_stages='layer3',
    flow_decoder=dict(
        type='EFCFlowDecoder',
        detach_occ_features={{_base_.efc_detach_occ_features}},
        in_channels=(64, 256, 512, 1024),
        loss_photometric={{_base_.efc_loss_photometric}},
        loss_smoothness={{_base_.efc_loss_smoothness}},
        loss_occlusion={{_base_.efc_loss_occlusion}}),
    loss_consistency={{_base_.efc_loss_consistency}})
