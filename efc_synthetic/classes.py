"""Cityscapes train ids used by the synthetic world.

The world keeps the 19-class Cityscapes meaning (and palette) so mmseg's
Cityscapes metrics and visualisation apply unchanged; only 9 of the 19
classes actually occur.
"""

CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
           'traffic light', 'traffic sign', 'vegetation', 'terrain', 'sky',
           'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
           'bicycle')

PALETTE = [[128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156],
           [190, 153, 153], [153, 153, 153], [250, 170, 30], [220, 220, 0],
           [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60],
           [255, 0, 0], [0, 0, 142], [0, 0, 70], [0, 60, 100],
           [0, 80, 100], [0, 0, 230], [119, 11, 32]]

ROAD, SIDEWALK, BUILDING, VEGETATION, SKY = 0, 1, 2, 8, 10
PERSON, RIDER, CAR, BICYCLE = 11, 12, 13, 18

#: train ids that can appear in a synthetic label map
USED_TRAIN_IDS = (ROAD, SIDEWALK, BUILDING, VEGETATION, SKY, PERSON, RIDER,
                  CAR, BICYCLE)

#: ignore index (never produced by the renderer: every pixel is covered)
IGNORE_INDEX = 255

#: internal marker in layer label maps for "this layer is absent here"
TRANSPARENT = 254
