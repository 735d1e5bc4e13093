"""Image-quality metrics on the [0, 1] pixel scale, one value per image of a batch.

- MSE: mean over all pixel-channel values of (x̂ − x)², pixels in [0, 1] (the paper's "per-pixel error").
- PSNR: 10·log10(1 / MSE) dB (peak 1).
- SSIM: scikit-image ``structural_similarity`` (7×7 uniform window, data_range 1, channels averaged).
"""
import math

import numpy as np
import torch
from skimage.metrics import structural_similarity


def mse(estimate: torch.Tensor, truth: torch.Tensor) -> list[float]:
    return ((estimate - truth) ** 2).flatten(1).mean(1).tolist()


def psnr_from_mse(value: float) -> float:
    return float("inf") if value <= 0 else 10.0 * math.log10(1.0 / value)


def psnr(estimate: torch.Tensor, truth: torch.Tensor) -> list[float]:
    return [psnr_from_mse(v) for v in mse(estimate, truth)]


def ssim(estimate: torch.Tensor, truth: torch.Tensor) -> list[float]:
    est = estimate.detach().double().cpu().numpy()
    ref = truth.detach().double().cpu().numpy()
    return [
        float(structural_similarity(e, r, data_range=1.0, channel_axis=0))
        for e, r in zip(np.asarray(est), np.asarray(ref))
    ]


def all_metrics(estimate: torch.Tensor, truth: torch.Tensor) -> dict[str, list[float]]:
    """``{"mse": [...], "psnr": [...], "ssim": [...]}`` for a batch ``(B, C, H, W)``."""
    errors = mse(estimate, truth)
    return {"mse": errors, "psnr": [psnr_from_mse(v) for v in errors], "ssim": ssim(estimate, truth)}
