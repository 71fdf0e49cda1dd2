# The seg-only baseline of the quick start: the same tiny segmentor, same
# world, schedule and evaluation, without the flow branch (Table 1
# "baseline"): only the labelled frame of each snippet teaches it.
#   python tools/train.py configs/quickstart/psp_baseline_tiny_synthetic_cpu.py
# EPE / Fl need a flow branch and are absent; TC uses ground-truth flow.
# The row (configs/_base_/ablation/baseline.py): every training pair
# contains the labelled frame (the other frame's label is all-255 and
# ignored), so the baseline sees as many labelled frames per iteration as it
# can, from pairs built exactly as for EFC.
_base_ = ['./psp_efc_tiny_synthetic_cpu.py', '../_base_/ablation/baseline.py']
model = {{_base_._row_.model}}
train_dataloader = dict(dataset={{_base_._row_.train_dataset}})
val_evaluator = _base_.synthetic_seg_metrics
test_evaluator = _base_.synthetic_seg_metrics
custom_hooks = []
