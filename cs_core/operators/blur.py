"""Blur: circular convolution with a Gaussian or motion kernel, by FFT.

.. math:: y = k \\circledast x = F^{-1}(\\hat k \\cdot F x),\\qquad A^\\top y = F^{-1}(\\overline{\\hat k} \\cdot F y)

Boundary: periodic (the image wraps around, so a bright left edge bleeds into the right one); this
makes A exactly diagonal in Fourier, Aᵀ the exact adjoint (correlation with k) and ‖A‖² = max|k̂|² = 1
for a non-negative kernel summing to 1. The same kernel blurs every channel; m = n (nothing is dropped,
the information is lost in the small |k̂|). Kernels (size × size, centred, normalised to sum 1):
``gaussian`` exp(−r²/2σ²); ``motion`` a segment of ``length`` pixels through the centre at ``angle``
degrees (counter-clockwise from horizontal), drawn with bilinear weights.
"""
import math

import torch

from ..errors import InputError
from .base import LinearOperator

KERNELS = ("gaussian", "motion")
DEFAULT_SIGMA = 1.5
DEFAULT_LENGTH = 9
DEFAULT_ANGLE = 0.0
SEGMENT_SAMPLES_PER_PIXEL = 8


class BlurOperator(LinearOperator):
    """y = vec(k ⊛ x), periodic boundary; ``kernel`` is (size, size), centred, summing to 1."""

    name = "blur"

    def __init__(self, image_shape, kernel: torch.Tensor):
        super().__init__(image_shape, math.prod(image_shape))
        _, h, w = image_shape
        size = kernel.shape[-1]
        padded = torch.zeros((h, w), dtype=kernel.dtype, device=kernel.device)
        padded[:size, :size] = kernel
        padded = torch.roll(padded, shifts=(-(size // 2), -(size // 2)), dims=(0, 1))  # centre at pixel (0, 0)
        self.register_buffer("kernel", kernel)
        self.register_buffer("transfer", torch.fft.rfft2(padded))

    def _filter(self, x, transfer):
        return torch.fft.irfft2(torch.fft.rfft2(x) * transfer, s=x.shape[-2:])

    def A(self, x):
        return self._filter(x, self.transfer).reshape(x.shape[0], -1)

    def A_adjoint(self, y):
        return self._filter(y.reshape(y.shape[0], *self.image_shape), self.transfer.conj())

    def view(self, y):
        """The blurred (and noisy) image, clamped to [0, 1]."""
        return y.reshape(y.shape[0], *self.image_shape).clamp(0, 1)

    def pattern(self):
        """The kernel, scaled so its largest weight is white."""
        return (self.kernel / self.kernel.max())[None, None]


def gaussian_kernel(size: int, sigma: float) -> torch.Tensor:
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-r ** 2 / (2 * sigma ** 2))
    kernel = g[:, None] * g[None, :]
    return (kernel / kernel.sum()).float()


def motion_kernel(size: int, length: float, angle: float) -> torch.Tensor:
    """A centred segment of ``length`` pixels at ``angle`` degrees, splatted bilinearly onto a size×size grid."""
    count = max(2, math.ceil(length * SEGMENT_SAMPLES_PER_PIXEL))
    t = torch.linspace(-(length - 1) / 2, (length - 1) / 2, count, dtype=torch.float64)
    theta = math.radians(angle)
    centre = (size - 1) / 2
    cols, rows = centre + t * math.cos(theta), centre - t * math.sin(theta)  # image rows grow downwards
    kernel = torch.zeros((size, size), dtype=torch.float64)
    r0, c0 = rows.floor(), cols.floor()
    for dr in (0, 1):
        for dc in (0, 1):
            weight = (1 - (rows - r0 - dr).abs()) * (1 - (cols - c0 - dc).abs())
            r, c = (r0 + dr).long(), (c0 + dc).long()
            inside = (r >= 0) & (r < size) & (c >= 0) & (c < size)
            kernel.index_put_((r[inside], c[inside]), weight[inside], accumulate=True)
    return (kernel / kernel.sum()).float()


def _number(value, default, what: str, low: float, high: float, whole: bool = False):
    value = default if value is None else value
    kind = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or not low <= value <= high:
        raise InputError(f"{what} must be {'a whole number' if whole else 'a number'} from {low:g} to {high:g}; got {value}")
    return value


def build(domain, params, generator, device):
    kind = params.get("kernel") or "gaussian"
    side = domain.size
    if kind == "gaussian":
        sigma = float(_number(params.get("sigma"), DEFAULT_SIGMA, "blur σ (--sigma)", 0.1, side))
        default_size = min(2 * math.ceil(3 * sigma) + 1, side - (side + 1) % 2)
    elif kind == "motion":
        length = float(_number(params.get("length"), DEFAULT_LENGTH, "motion length (--length)", 1, side))
        angle = float(_number(params.get("angle"), DEFAULT_ANGLE, "motion angle (--angle, degrees)", -360, 360))
        default_size = min(math.ceil(length) | 1, side)  # the smallest odd size holding the segment
    else:
        raise InputError(f"unknown blur kernel {kind!r}; choose {' or '.join(KERNELS)}")
    size = params.get("size")
    if size is not None and not isinstance(size, bool) and isinstance(size, int) and size > side:
        raise InputError(f"the blur kernel ({size}×{size}) is larger than the {side}×{side} image of {domain.name}; "
                         f"use --size ≤ {side}")
    size = _number(size, default_size, "blur kernel size (--size)", 1, side, whole=True)
    kernel = gaussian_kernel(size, sigma) if kind == "gaussian" else motion_kernel(size, length, angle)
    return BlurOperator(domain.shape, kernel.to(device))
