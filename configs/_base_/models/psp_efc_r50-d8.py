# EFC (Ding et al., AAAI 2020) with PSPNet ResNetV1c-50-D8: mmseg's own
# pspnet_r50-d8 base + the flow branch on the shared encoder (stem + layers
# 1-3) + the EFC losses of efc_losses.py.
# BN note: PSPHead's pool scale 1 gives a 1x1 map per image, which BatchNorm
# cannot normalise with one image; EFC's loss() runs the seg tail on all 2B
# frames of a pair batch, so even one pair per GPU gives 2 values per channel
# (the paper: batch 16, synchronised BN).
_base_ = ['mmseg::_base_/models/pspnet_r50-d8.py', './efc_losses.py']
data_preprocessor = dict(type='PairSegDataPreProcessor')
# CE averaged over labelled pixels only: a pair with one unlabelled frame
# (all 255) keeps the labelled frame's loss at full magnitude.
model = dict(
    type='EFCSegmentor',
    data_preprocessor=data_preprocessor,
    decode_head=dict(loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=dict(loss_decode=dict(avg_non_ignore=True)),
    # shared encoder = stem + layer1-3 (pyramid levels 0..3, strides 2,4,8,8)
    shared_stages='layer3',
    flow_decoder=dict(
        type='EFCFlowDecoder',
        detach_occ_features={{_base_.efc_detach_occ_features}},
        in_channels=(64, 256, 512, 1024),
        loss_photometric={{_base_.efc_loss_photometric}},
        loss_smoothness={{_base_.efc_loss_smoothness}},
        loss_occlusion={{_base_.efc_loss_occlusion}}),
    loss_consistency={{_base_.efc_loss_consistency}})
