# Exploration row "sep_enc_unl" (not in the paper): TCC_multi+OM_unl, but the
# flow branch reads its own trainable copy of the encoder stages
# (flow_encoder): the flow losses no longer reach the segmentor's encoder;
# flow and segmentation still meet through L_cons and O_error.
_row_ = dict(
    name='sep_enc_unl', table=0, metrics='all',
    model=dict(flow_encoder=dict(),
               losses=dict(consistency=dict(frames='unlabelled'))),
    train_dataset=dict(with_unlabelled=False))
