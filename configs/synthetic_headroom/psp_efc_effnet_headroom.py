# The synthetic headroom protocol (psp_efc_tiny_headroom.py: 6 labelled + 42
# unlabelled snippets, two streams, batch 4 + 2 pairs) with the tiny
# segmentor's heads and flow decoder on the ImageNet-pretrained
# EfficientNet-Lite0 encoder (configs/_base_/models/
# efficientnet_lite0_encoder.py; weights: docs/pretrained.md), the backbone
# at a tenth of the learning rate. Rows: psp_baseline_effnet_headroom.py,
# psp_oracle_effnet_headroom.py.
#   python bench/headroom.py --encoder efficientnet_lite0 --iters 500 \
#       --configs baseline=configs/synthetic_headroom/psp_baseline_effnet_headroom.py,oracle=configs/synthetic_headroom/psp_oracle_effnet_headroom.py,EFC=configs/synthetic_headroom/psp_efc_effnet_headroom.py
_base_ = ['./psp_efc_tiny_headroom.py',
          '../_base_/models/efficientnet_lite0_encoder.py']
model = dict(_base_.efficientnet_lite0_tiny_model,
             flow_decoder=_base_.efficientnet_lite0_flow_levels)
optim_wrapper = _base_.efficientnet_lite0_optim_wrapper
