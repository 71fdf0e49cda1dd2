# KITTI flow: unsupervised training pairs and KITTI 2015 evaluation
# (Table 2 of the paper: EPE noc / all on KITTI 2015 training).
#
# data/kitti/
#   data_scene_flow/training/{image_2,flow_occ,flow_noc}/   KITTI 2015
#   data_scene_flow_multiview/testing/image_2/{scene}_{idx:02d}.png
#
# Train: consecutive frames (idx, idx + 1) of the multi-view *testing* scenes.
# The 2015 evaluation pairs must never be trained on: in the multi-view set,
# training scenes 000000-000199 ARE the 200 KITTI 2015 training pairs
# (frames 10/11), so they are not used (to add them anyway, list them in
# exclude_scenes). The paper trains on KITTI raw minus the 28 drives of the
# 2015 training set: use frame_regex=RAW_FRAME_REGEX
# ('(?P<scene>.+)/image_0[23]/data/(?P<idx>\d+)\.png$', see
# efc_mm/datasets/kitti_flow.py) with data_prefix.img_path at the raw root and
# exclude_scenes='kitti2015_train_drives.txt' (one drive path a line,
# e.g. 2011_09_26/2011_09_26_drive_0009_sync). Segmentation targets there
# are pseudo labels of a Cityscapes model: data_prefix.seg_map_path with the
# frames' relative names (else both frames are unlabelled, all 255).
_base_ = ['./pair_common.py']
dataset_type = 'KITTIFlowPairDataset'
data_root = 'data/kitti/'
crop_size = (320, 896)
train_pipeline = _base_.pair_loading + [
    dict(type='PairRandomResize', scale=None, ratio_range=(0.9, 1.2),
         keep_ratio=True),
    dict(type='PairRandomCrop', crop_size=crop_size),
] + _base_.pair_augmentation
test_pipeline = _base_.pair_test_pipeline
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        mode='train',
        data_prefix=dict(img_path='data_scene_flow_multiview/testing/image_2'),
        frame_gaps=(1, ),
        exclude_scenes=None,
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        mode='eval',
        test_mode=True,
        data_prefix=dict(
            img_path='data_scene_flow/training/image_2',
            flow_occ_path='data_scene_flow/training/flow_occ',
            flow_noc_path='data_scene_flow/training/flow_noc'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# EPE all (flow_occ) / noc (flow_noc), Fl-all
val_evaluator = dict(type='EFCFlowMetric', direction='fw')
test_evaluator = val_evaluator
