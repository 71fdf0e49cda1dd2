# The seg-only baseline of configs/camvid_sparse/psp_efc_tiny_camvid_sparse.py:
# the same segmentor, data, schedule and evaluation without the flow branch
# and L_cons. Every training pair holds one of the 7 labelled frames (its
# unlabelled neighbour is ignored), so it sees as many labels per step as EFC.
_base_ = ['./psp_efc_tiny_camvid_sparse.py']
model = dict(flow_decoder=None, loss_consistency=None)
