# Row "full" of the synthetic protocol with the paper's letter for every loss.
_base_ = ['./psp_efc_tiny_synthetic.py']
model = {{_base_.efc_paper_letter}}
