# The quick start with the paper's letter for every loss (preset; the row
# configs/_base_/ablation/paper.py).
_base_ = ['./psp_efc_tiny_synthetic_cpu.py', '../_base_/ablation/paper.py']
model = {{_base_._row_.model}}
