# Row "baseline": the same segmentor without the flow branch; every pair
# holds the labelled frame (as many labelled frames per step as it can get).
_base_ = ['./psp_efc_tiny_synthetic.py']
model = dict(flow_decoder=None, loss_consistency=None)
train_dataloader = dict(dataset=dict(pairs_per_snippet=1, labelled_pairs=1,
                                     with_unlabelled=False))
eval_metrics = [dict(type='PairIoUMetric', iou_metrics=['mIoU']),
                dict(type='TemporalConsistencyMetric', flow_source='gt')]
val_evaluator = eval_metrics
test_evaluator = eval_metrics
