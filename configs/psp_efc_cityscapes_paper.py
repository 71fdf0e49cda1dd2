# psp_efc_cityscapes.py with the paper's letter for every loss (preset; see
# configs/_base_/models/efc_losses.py for what differs and why).
_base_ = ['./psp_efc_cityscapes.py']
model = {{_base_.efc_paper_letter}}
