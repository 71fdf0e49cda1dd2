# The seg-only baseline of configs/camvid_sparse/psp_efc_tiny_camvid_sparse.py:
# the same segmentor, data, schedule and evaluation without the flow branch
# and L_cons. Every training pair holds one of the 7 labelled frames (its
# unlabelled neighbour is ignored), so it sees as many labels per step as EFC.
# The row: configs/_base_/ablation/baseline.py (its pair-draw keys do not
# apply to this protocol: row_train_dataset_keys = []).
_base_ = ['./psp_efc_tiny_camvid_sparse.py', '../_base_/ablation/baseline.py']
model = {{_base_._row_.model}}
