# PSPNet-R50-D8 + EFC on Cityscapes sequences (paper: 713x713 crops, 120k
# iterations on 16 GPUs, batch 16; here mmseg's 80k schedule by default).
_base_ = [
    './_base_/models/psp_efc_r50-d8.py',
    './_base_/datasets/cityscapes_sequence.py',
    './_base_/default_runtime.py', './_base_/schedules/schedule_80k.py'
]
default_scope = 'mmseg'
custom_imports = dict(imports=['efc_mm'], allow_failed_imports=False)
crop_size = (713, 713)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
