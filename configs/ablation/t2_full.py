# Table 2 "full" (KITTI 2015 train EPE noc/all 3.93/7.05): the KITTI flow
# protocol with the whole method (UL + OE + TC + the learnt occlusion), i.e.
# the model base's objective unchanged (row configs/_base_/ablation/full.py
# changes nothing). The other t2_* rows apply their row to this file.
_base_ = [
    '../_base_/models/psp_efc_r50-d8.py', '../_base_/datasets/kitti_flow.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_120k.py'
]
model = dict(data_preprocessor=dict(size=_base_.crop_size))
