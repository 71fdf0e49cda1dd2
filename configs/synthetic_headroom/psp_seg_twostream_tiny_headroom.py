# Issue 18 diagnosis (docs/experiments.md M8): the baseline's segmentor
# (no flow branch, no consistency) on the EFC row's two-stream batches
# (psp_efc_tiny_headroom.py: 4 labelled + 2 unlabelled pairs a step). Only
# L_seg on the labelled frames trains; the unlabelled pairs only pass the
# segmentor's BatchNorm layers in train mode. Against
# psp_baseline_tiny_headroom.py it measures what the two-stream batch alone
# does to the segmentation.
#   python tools/train.py \
#       configs/synthetic_headroom/psp_seg_twostream_tiny_headroom.py
_base_ = ['./psp_efc_tiny_headroom.py']
model = dict(flow_decoder=None, losses=None)
val_evaluator = _base_.synthetic_seg_metrics
test_evaluator = _base_.synthetic_seg_metrics
