"""Subsampled Fourier (Cartesian MRI): keep whole phase-encode lines (rows) of the orthonormal 2-D FFT.

.. math:: y = \\big(\\mathrm{Re}(P F x),\\ \\mathrm{Im}(P F x)\\big),\\qquad
          A^\\top y = \\mathrm{Re}\\big(F^{H} P^{\\top} (y_{re} + i\\,y_{im})\\big)

F is ``torch.fft.fft2(norm="ortho")`` per channel (unitary), P keeps the rows of k-space in the mask
(all columns of each kept row, the same rows in every channel). Complex values are measured as real
pairs, so A is a real linear map and Aᵀ its exact adjoint. Sampling pattern: ``round(H / R)`` lines
in all, the ``round(center · H)`` lowest frequencies (at least the DC line) always kept (the fully sampled centre), the
rest drawn without replacement, uniformly (``random``) or with density ∝ (1 − |k|/k_max)² favouring low
frequencies (``variable``). For a real image row k and row −k are complex conjugates, so a line and
its mirror carry the same information (as in real scanners, R counts lines, not information).
"""
import math

import torch

from ..errors import InputError
from .base import LinearOperator

DEFAULT_ACCEL = 4.0
DEFAULT_CENTER = 0.08   # fraction of lines in the fully sampled centre (fastMRI's default at R = 4)
LINE_PATTERNS = ("random", "variable")
VARIABLE_DENSITY_POWER = 2


class FourierOperator(LinearOperator):
    """y = [Re, Im] of the kept k-space rows of the orthonormal 2-D FFT; ‖A‖² = 1 (the DC row is kept)."""

    name = "fourier"

    def __init__(self, image_shape, rows: torch.Tensor):
        c, _, w = image_shape
        super().__init__(image_shape, 2 * c * len(rows) * w)
        self.register_buffer("rows", rows)

    def A(self, x):
        kspace = torch.fft.fft2(x, norm="ortho")[:, :, self.rows, :]
        return torch.stack([kspace.real, kspace.imag], 1).reshape(x.shape[0], -1)

    def A_adjoint(self, y):
        c, h, w = self.image_shape
        pairs = y.reshape(y.shape[0], 2, c, len(self.rows), w)
        kept = torch.complex(pairs[:, 0], pairs[:, 1])  # complex64 or complex128, following y
        kspace = kept.new_zeros((y.shape[0], c, h, w))
        kspace[:, :, self.rows, :] = kept
        return torch.fft.ifft2(kspace, norm="ortho").real

    def view(self, y):
        """The zero-filled image Re(F^H P^T y), clamped to [0, 1]."""
        return self.A_adjoint(y).clamp(0, 1)

    def pattern(self):
        """The k-space mask, zero frequency in the middle (rows = phase-encode lines): white = measured."""
        _, h, w = self.image_shape
        mask = torch.zeros((1, 1, h, w), device=self.rows.device)
        mask[:, :, self.rows, :] = 1.0
        return torch.fft.fftshift(mask, dim=(-2, -1))


def line_mask(height: int, accel: float, center: float, lines: str, generator: torch.Generator) -> torch.Tensor:
    """Sorted indices (FFT order, DC = 0) of the ``round(height / accel)`` kept rows; see the module docstring."""
    total = max(1, round(height / accel))
    n_center = max(1, round(center * height))
    if n_center > total:
        raise InputError(f"the fully sampled centre ({n_center} of {height} lines at --center {center:g}) exceeds "
                         f"the {total} lines that acceleration {accel:g} allows; lower --center or --accel")
    frequency = torch.fft.fftfreq(height) * height          # signed integer frequencies in FFT order
    order = torch.argsort(frequency.abs() * 2 - (frequency < 0).float(), stable=True)  # 0, −1, 1, −2, 2, …
    centre, rest = order[:n_center], order[n_center:]
    if lines == "random":
        weights = torch.ones(len(rest))
    else:
        weights = (1 - frequency[rest].abs() / (height / 2 + 1)) ** VARIABLE_DENSITY_POWER
    extra = rest[torch.multinomial(weights, total - n_center, replacement=False, generator=generator)] \
        if total > n_center else rest[:0]
    return torch.sort(torch.cat([centre, extra])).values


def build(domain, params, generator, device):
    accel = params.get("accel")
    accel = DEFAULT_ACCEL if accel is None else accel
    if isinstance(accel, bool) or not isinstance(accel, (int, float)) or not math.isfinite(accel) \
            or not 1 <= accel <= domain.size:
        raise InputError(f"acceleration R (--accel) must be a number from 1 (fully sampled) to {domain.size} "
                         f"(one line of {domain.size}) for {domain.name}; got {accel}")
    center = params.get("center")
    center = DEFAULT_CENTER if center is None else center
    if isinstance(center, bool) or not isinstance(center, (int, float)) or not 0 <= center <= 1:
        raise InputError(f"--center is the fraction of lines in the fully sampled centre, from 0 to 1; got {center}")
    lines = params.get("lines") or "random"
    if lines not in LINE_PATTERNS:
        raise InputError(f"unknown line pattern {lines!r}; choose {' or '.join(LINE_PATTERNS)}")
    rows = line_mask(domain.size, float(accel), float(center), lines, generator)
    return FourierOperator(domain.shape, rows.to(device))
