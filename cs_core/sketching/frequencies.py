"""Frequency laws Λ for sketching: Ω = [ω_1 … ω_m] ∈ R^{d×m}.

- ``gaussian``: ω ~ N(0, σ⁻² I_d), the random Fourier features of the Gaussian kernel
  κ(x, x′) = exp(−‖x − x′‖² / 2σ²).
- ``folded``: ω = (R/σ)·u with u uniform on the sphere and R = |N(0, 1)| (folded Gaussian radius).
- ``adapted``: ω = (R/σ)·u with p(R) ∝ √(R² + R⁴/4)·e^{−R²/2} (Keriven et al.'s adapted radius),
  drawn by inverting its CDF tabulated on a fine grid.

σ is given, or estimated from a small sample by :func:`estimate_sigma`.
"""
from __future__ import annotations

import torch

from ..errors import InputError

LAWS = ("gaussian", "folded", "adapted")
MAX_FREQUENCIES = 200_000
MAX_OMEGA_ENTRIES = 50_000_000  # m·d float64 entries of Ω (400 MB)
SIGMA_SAMPLE = 1000
SIGMA_NEIGHBOUR = 30
_RADIUS_GRID = torch.linspace(0.0, 10.0, 20_001, dtype=torch.float64)


def check_m(m, limit: int = MAX_FREQUENCIES) -> int:
    if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= limit:
        raise InputError(f"the sketch size m must be a whole number from 1 to {limit}; got {m}")
    return m


def _adapted_radius(m: int, generator: torch.Generator) -> torch.Tensor:
    r = _RADIUS_GRID
    density = torch.sqrt(r**2 + r**4 / 4) * torch.exp(-r**2 / 2)
    cdf = torch.cumsum(density, 0)
    cdf = cdf / cdf[-1]
    u = torch.rand(m, generator=generator, dtype=torch.float64)
    return r[torch.searchsorted(cdf, u).clamp(max=len(r) - 1)]


def draw_frequencies(law: str, m: int, d: int, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Ω (d, m) float64 on the CPU, drawn from ``law`` at scale ``sigma`` with ``generator``."""
    if law not in LAWS:
        raise InputError(f"unknown frequency law {law!r}; choose {', '.join(LAWS)}")
    check_m(m)
    if m * d > MAX_OMEGA_ENTRIES:
        raise InputError(f"m = {m} frequencies in {d} dimensions is too large (m·d over {MAX_OMEGA_ENTRIES:,}); "
                         f"use m ≤ {MAX_OMEGA_ENTRIES // d}")
    if not (isinstance(sigma, (int, float)) and 0 < sigma < float("inf")):
        raise InputError(f"the scale σ must be a finite number > 0; got {sigma}")
    if law == "gaussian":
        return torch.randn(d, m, generator=generator, dtype=torch.float64) / sigma
    direction = torch.randn(d, m, generator=generator, dtype=torch.float64)
    direction = direction / direction.norm(dim=0, keepdim=True)
    if law == "folded":
        radius = torch.randn(m, generator=generator, dtype=torch.float64).abs()
    else:
        radius = _adapted_radius(m, generator)
    return direction * radius / sigma


def estimate_sigma(sample: torch.Tensor, k: int = SIGMA_NEIGHBOUR) -> float:
    """σ = median distance from a point to its k-th nearest neighbour in ``sample`` (n, d), n ≤ a few thousand.

    The kernel then resolves the data at the scale of its local neighbourhoods, in any dimension.
    """
    x = torch.as_tensor(sample, dtype=torch.float64)[:SIGMA_SAMPLE]
    if x.ndim != 2 or x.shape[0] < k + 1:
        raise InputError(f"estimating σ needs at least {k + 1} points (n, d); got shape {tuple(x.shape)}")
    dist = torch.cdist(x, x)
    kth = dist.kthvalue(k + 1, dim=1).values  # k+1: the point itself is at distance 0
    sigma = float(kth.median())
    if not sigma > 0:
        raise InputError("the data's points coincide: σ cannot be estimated; give σ explicitly")
    return sigma
