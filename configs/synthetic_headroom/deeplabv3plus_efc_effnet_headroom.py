# DeepLabv3+ (tiny ASPP head of configs/_base_/models/
# efficientnet_lite0_encoder.py) in place of PSPNet in
# psp_efc_effnet_headroom.py: the same pretrained encoder, protocol and
# schedule.
_base_ = ['./psp_efc_tiny_headroom.py',
          '../_base_/models/efficientnet_lite0_encoder.py']
model = dict(_base_.efficientnet_lite0_tiny_model,
             decode_head=dict(_base_.efficientnet_lite0_tiny_aspp_head,
                              num_classes=19),
             flow_decoder=_base_.efficientnet_lite0_flow_levels)
optim_wrapper = _base_.efficientnet_lite0_optim_wrapper
