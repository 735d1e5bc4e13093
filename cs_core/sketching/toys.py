"""The 2-D toy sets of Schellekens & Jacques, inside the unit ball, drawn from a seed.

- ``gmm``: an unbalanced mixture of 5 Gaussians (weights 0.40, 0.25, 0.15, 0.12, 0.08, σ = 0.07)
  centred on a pentagon of radius 0.6;
- ``circles``: two noisy concentric circles of radii 0.4 and 0.85 (noise σ = 0.02), half the points each;
- ``spiral``: two turns of r = 0.05 + 0.85 t, θ = 4π t, t ~ U(0, 1), noise σ = 0.02.
"""
from __future__ import annotations

import math

import torch

from ..errors import InputError

TOYS = ("gmm", "circles", "spiral")
MAX_POINTS = 10_000_000
GMM_WEIGHTS = (0.40, 0.25, 0.15, 0.12, 0.08)
GMM_RADIUS, GMM_STD = 0.6, 0.07
CIRCLE_RADII, NOISE = (0.4, 0.85), 0.02


def _gmm(n: int, g: torch.Generator) -> torch.Tensor:
    angles = torch.arange(5, dtype=torch.float64) * 2 * math.pi / 5 + math.pi / 2
    centres = GMM_RADIUS * torch.stack([angles.cos(), angles.sin()], dim=1)
    component = torch.multinomial(torch.tensor(GMM_WEIGHTS, dtype=torch.float64), n, replacement=True, generator=g)
    return centres[component] + GMM_STD * torch.randn(n, 2, generator=g, dtype=torch.float64)


def _circles(n: int, g: torch.Generator) -> torch.Tensor:
    radius = torch.tensor(CIRCLE_RADII, dtype=torch.float64)[torch.arange(n) % 2]
    theta = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    points = radius[:, None] * torch.stack([theta.cos(), theta.sin()], dim=1)
    return points + NOISE * torch.randn(n, 2, generator=g, dtype=torch.float64)


def _spiral(n: int, g: torch.Generator) -> torch.Tensor:
    t = torch.rand(n, generator=g, dtype=torch.float64)
    r, theta = 0.05 + 0.85 * t, 4 * math.pi * t
    points = r[:, None] * torch.stack([theta.cos(), theta.sin()], dim=1)
    return points + NOISE * torch.randn(n, 2, generator=g, dtype=torch.float64)


def toy_data(name: str, n: int, seed: int) -> torch.Tensor:
    """``n`` points (n, 2) float64 of toy set ``name`` drawn from ``seed``."""
    if name not in TOYS:
        raise InputError(f"unknown toy dataset {name!r}; choose {', '.join(TOYS)}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_POINTS:
        raise InputError(f"the number of points must be a whole number from 1 to {MAX_POINTS}; got {n}")
    g = torch.Generator().manual_seed(seed)
    return {"gmm": _gmm, "circles": _circles, "spiral": _spiral}[name](n, g)


def toy_split(name: str, n: int, n_heldout: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train (n, 2), held-out (n_heldout, 2)): one draw, split; only the train part is ever sketched."""
    for count in (n, n_heldout):
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_POINTS:
            raise InputError(f"the number of points must be a whole number from 1 to {MAX_POINTS}; got {count}")
    points = toy_data(name, n + n_heldout, seed)
    return points[:n], points[n:]
