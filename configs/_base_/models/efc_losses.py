# EFC's losses with the paper's settings (Ding et al., AAAI 2020, eq. 2-8):
#   L = L_seg + 10 L_cons + 0.4 L_occ + 0.5 L_sm + L_pm
# stated once here and used by every model base (no `model` key: a model base
# lists this file next to mmseg's own model base and refers to these names).
# Each loss is a module: set it to None in a config to remove it (the paper's
# ablations, configs/ablation/), or give it an argument.
efc_loss_photometric = dict(      # eq. 5-6, on the flow decoder
    type='PhotometricLoss', beta=0.85, loss_weight=1.0,
    occlusion_weighting=True,     # O_est in eq. 5
    seg_error=True)               # O_error from segmentation ("OE")
efc_loss_smoothness = dict(       # eq. 7, first order, on the flow decoder
    type='SmoothnessLoss', loss_weight=0.5, order=1)
efc_loss_occlusion = dict(        # eq. 4 against the range map, threshold 0.2
    type='OcclusionLoss', alpha=0.2, loss_weight=0.4, threshold=0.2)
efc_loss_consistency = dict(      # eq. 2 on the deepest shared level, "OM"
    type='FeatureConsistencyLoss', loss_weight=10.0, occlusion_mask=True,
    level=-1)
