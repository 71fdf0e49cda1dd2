# CamVid headroom protocol (issue 17), EFC row: the 15 Hz sequence protocol of
# configs/camvid_sparse/ (1 labelled frame per second: every 15th of the 101,
# each paired with an unlabelled neighbour 1..5 positions away; 128x128 crops
# of the half-size frames, batch 4) with the tiny segmentor's heads and flow
# decoder on the ImageNet-pretrained EfficientNet-Lite0 encoder (the
# backbone at a tenth of the learning rate; weights: docs/pretrained.md).
# Evaluation on the frames off stride 5 (80 of 101, held_out_stride=5), so
# that the oracle row, every 5th frame labelled (psp_oracle_effnet_camvid_
# headroom.py), is scored on exactly the same frames as the baseline
# (psp_baseline_effnet_camvid_headroom.py) and this row.
#   python bench/headroom.py --protocol "CamVid 15 Hz, 1 label/s" \
#       --encoder efficientnet_lite0 --iters 500 \
#       --out bench/results/headroom_camvid.json --configs ...
_base_ = ['../camvid_sparse/psp_efc_tiny_camvid_sparse.py',
          '../_base_/models/efficientnet_lite0_encoder.py']
model = dict(_base_.efficientnet_lite0_tiny_model,
             flow_decoder=_base_.efficientnet_lite0_flow_levels)
optim_wrapper = _base_.efficientnet_lite0_optim_wrapper
label_split = dict(stride=15, offset=0, held_out_stride=5)
