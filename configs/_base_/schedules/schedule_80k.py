# mmseg's standard 80k schedule (SGD 0.01, poly 0.9), weight decay as the paper.
_base_ = './schedule_120k.py'
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=80000,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000,
                 val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
