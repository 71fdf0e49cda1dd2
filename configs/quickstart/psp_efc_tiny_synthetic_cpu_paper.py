# The quick start with the paper's letter for every loss (preset).
_base_ = ['./psp_efc_tiny_synthetic_cpu.py']
model = {{_base_.efc_paper_letter}}
