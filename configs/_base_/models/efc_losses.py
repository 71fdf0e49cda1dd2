# EFC's losses (Ding et al., AAAI 2020, eq. 2-8):
#   L = L_seg + lambda_cons L_cons + 0.4 L_occ + lambda_sm L_sm + L_pm
# stated once here and used by every model base (no `model` key: a model base
# lists this file next to mmseg's own model base and refers to these names).
# Each loss is a module: set it to None in a config to remove it (the paper's
# ablations, configs/ablation/), or give it an argument.
#
# These are efc_mm's defaults. Where they differ from the paper's letter
# (`efc_paper_letter` below, used by the *_paper.py presets) the reason was
# measured; see docs/results.md ("Deviations from the paper"):
# * flow losses on the finest decoder level upsampled to the input size and
#   second-order edge-aware smoothness (UFlow practice): the paper's
#   multi-scale first-order sum is lower at zero flow than at the true flow
#   (bench/flow_loss_landscape.py);
# * L_cons on the segmentation's class probabilities with the warped
#   neighbour as a constant target, switched on after a warm-up of the flow
#   (feature-level L_cons at weight 10 from the first step made the shared
#   features ignore motion and cost mIoU even with the true flow).
efc_loss_photometric = dict(      # eq. 5-6, on the flow decoder
    type='PhotometricLoss', beta=0.85, loss_weight=1.0,
    occlusion_weighting=True,     # O_est in eq. 5
    seg_error=True,               # O_error from segmentation ("OE")
    resolution='input', level_weights=[0, 0, 0, 1])
efc_loss_smoothness = dict(       # eq. 7, on the flow decoder
    type='SmoothnessLoss', loss_weight=0.5, order=2, edge_constant=150.0,
    resolution='input', level_weights=[0, 0, 0, 1])
efc_loss_occlusion = dict(        # eq. 4 against the range map, threshold 0.2
    type='OcclusionLoss', alpha=0.2, loss_weight=0.4, threshold=0.2,
    level_weights=[0, 0, 0, 1])
efc_loss_consistency = dict(      # eq. 2 ("OM": masked by 1 - O_est)
    type='FeatureConsistencyLoss', loss_weight=10.0, occlusion_mask=True,
    level='seg', stop_grad='warped',
    weight_schedule=dict(begin=3000, end=5000))
# the occlusion heads read the flow features detached (L_occ and -G O_est
# train the heads only: with them attached, flow started moving ~180
# iterations later in the quick start)
efc_detach_occ_features = True

# The paper's letter, for the *_paper.py presets (`model = {{_base_.
# efc_paper_letter}}` merges it over a config's model): every flow loss
# summed over all decoder levels at each level's resolution, first-order
# smoothness, L_cons on the deepest shared-encoder level at weight 10 from the
# first iteration with gradients into both frames, occlusion heads attached.
efc_paper_letter = dict(
    flow_decoder=dict(
        detach_occ_features=False,
        loss_photometric=dict(resolution='level', level_weights=None),
        loss_smoothness=dict(order=1, edge_constant=10.0, resolution='level',
                             level_weights=None),
        loss_occlusion=dict(level_weights=None)),
    loss_consistency=dict(level=-1, stop_grad='none', weight_schedule=None))
