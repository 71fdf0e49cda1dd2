# Table 2 "full" (3.93/7.05): the whole method on KITTI: UL+OE+TC plus the
# learnt occlusion (O_est in eq. 5, L_occ eq. 4, (1 - O_est) mask in L_cons),
# i.e. the model base's losses unchanged. The other t2_* rows remove parts.
_base_ = [
    '../_base_/models/psp_efc_r50-d8.py', '../_base_/datasets/kitti_flow.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_120k.py'
]
default_scope = 'mmseg'
custom_imports = dict(imports=['efc_mm'], allow_failed_imports=False)
model = dict(data_preprocessor=dict(size=(320, 896)))
