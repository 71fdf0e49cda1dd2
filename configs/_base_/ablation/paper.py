# The paper's letter (Ding et al., AAAI 2020, eq. 2-8) as a preset over
# efc_mm's defaults: every flow loss summed over all decoder levels at each
# level's resolution, first-order smoothness (edge constant 10), occlusion
# heads on the flow features, L_cons on the deepest shared-encoder level at
# weight 10 from the first iteration with gradients into both frames and the
# flow. efc_mm's defaults differ where it was measured to fail
# (docs/results.md, "Deviations from the paper").
_row_ = dict(
    name='paper', table=0, metrics='all',
    model=dict(
        flow_decoder=dict(
            detach_occ_features=False,
            losses=dict(
                photometric=dict(resolution='level', level_weights='all'),
                smoothness=dict(order=1, edge_constant=10.0,
                                resolution='level', level_weights='all'),
                occlusion=dict(level_weights='all'))),
        losses=dict(consistency=dict(
            level=-1, weight_schedule=None,
            grad_to=['seg', 'target', 'flow']))),
    train_dataset=dict())
