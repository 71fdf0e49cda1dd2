# Dilation8 (VGG-16 front end + 8-layer context module, Yu & Koltun Table 1)
# + EFC on CamVid video (11 classes).
_base_ = ['./_base_/models/dilation_efc_vgg16.py',
          './_base_/datasets/camvid_video.py',
          './_base_/default_runtime.py', './_base_/schedules/schedule_80k.py']
# crop_size of the dataset base, (h, w) = (360, 480): the SegNet release of
# CamVid (the one efc_mm reads) is 480 x 360; for the original 960 x 720
# frames use a larger crop.
data_preprocessor = dict(size=_base_.crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(
        channels=11, num_classes=11, dilations=(1, 1, 2, 4, 8, 16, 1)))
