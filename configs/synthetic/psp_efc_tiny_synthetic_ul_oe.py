# Row "UL+OE": UL + O_error from the (trained) segmentation, eq. 5.
_base_ = ['./psp_efc_tiny_synthetic.py']
model = dict(
    loss_consistency=None,
    flow_decoder=dict(loss_photometric=dict(occlusion_weighting=False),
                      loss_occlusion=None))
