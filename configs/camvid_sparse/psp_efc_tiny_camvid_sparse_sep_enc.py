# EFC on CamVid's 15 Hz sequence with the flow branch on its own trainable
# copy of the encoder stages (``flow_encoder=dict()``): flow and segmentation
# still train together through L_cons and O_error, but the flow losses no
# longer reach the segmentor's encoder. On the synthetic world this removed
# the cost of sharing the tiny encoder (docs/results.md).
_base_ = ['./psp_efc_tiny_camvid_sparse.py']
model = dict(flow_encoder=dict())
