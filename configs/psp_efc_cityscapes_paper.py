# psp_efc_cityscapes.py with the paper's letter for every loss (preset; the
# row configs/_base_/ablation/paper.py says what differs, docs/results.md
# why).
_base_ = ['./psp_efc_cityscapes.py', './_base_/ablation/paper.py']
model = {{_base_._row_.model}}
