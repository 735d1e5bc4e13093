"""Compressed sensing with generative priors (Bora et al., 2017): operators, bases, solvers, priors.

Images are batch-first ``(B, C, H, W)`` float tensors in ``[0, 1]`` at every public boundary.
"""
