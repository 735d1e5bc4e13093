"""The problems the landscape's pictures show, set up once for the CLI and the app alike.

- :func:`descent_problem`: a random k-latent problem and its starts (``landscape descend`` / ``heatmap``, the tab's Run);
- :func:`heat_map`: log f over the box around 0 for k = 2, with z* and −ρ_d z* (computed once per problem);
- :func:`slice_problem` / :func:`slice_map`: a trained prior's problem, the plane through z*, −z*, 0, CSGM's
  restarts and f on that plane (``landscape slice``, the tab's trained-prior panel).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError
from .grid import Plane, grid_k2, make_plane, plane_slice
from .network import check_widths
from .rho import rho
from .risk import START_STREAM, Risk, prior_risk, random_risk, random_starts, stream

MAX_STARTS = 1024
PLANE_STREAM = 7           # the slice's random direction: a fifth stream of the seed, after those of risk.py
SLICE_HALF_WIDTH = 1.6     # the slice's box [−h, h]² in units of ‖z*‖


@dataclass
class HeatMap:
    """f on an n×n grid (row = second coordinate) with the two points the theory marks, in the same coordinates."""
    axis: torch.Tensor       # (n,)
    values: torch.Tensor     # (n, n)
    star: np.ndarray         # (2,) z*
    spurious: np.ndarray     # (2,) −ρ_d z* (random nets) or −z* (trained priors)


def check_starts(count: int, what: str = "--starts") -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_STARTS:
        raise InputError(f"{what} must be a whole number from 1 to {MAX_STARTS}; got {count}")
    return count


def box_half_width(z_star_norm: float) -> float:
    """The heat map's box [−h, h]² around 0: wide enough to show z*, −z* and the starts."""
    return 1.6 * z_star_norm if z_star_norm > 0 else 1.0


def descent_problem(k: int, widths: list[int], m: int, noise: float, seed: int, starts: int,
                    device: torch.device) -> tuple[Risk, torch.Tensor, list[str]]:
    """(risk, starts (1, S, k), warnings for layers that are not expansive) of ``seed``."""
    warnings = check_widths(k, widths)
    check_starts(starts)
    risk, _ = random_risk(k, widths, m, noise, seed, device)
    return risk, random_starts(risk, starts, seed), warnings


def heat_map(risk: Risk, depth: int, n: int) -> HeatMap:
    """f of trial 0 over the box around 0 (k = 2), with z* and −ρ_d z* for a ``depth``-layer net."""
    if risk.k != 2:
        raise InputError(f"the heat map is drawn over the latent plane, so it needs --k 2; got --k {risk.k}")
    z_star = risk.z_star[0].cpu().numpy()
    axis, values = grid_k2(risk, box_half_width(float(np.linalg.norm(z_star))), n)
    return HeatMap(axis, values, z_star, -rho(depth) * z_star)


def slice_problem(prior: torch.nn.Module, latent_dim: int, m: int, noise: float, seed: int, restarts: int,
                  device: torch.device) -> tuple[Risk, Plane, torch.Tensor]:
    """(risk, the plane through z*, −z*, 0, CSGM's restarts (1, R, latent)) for a trained prior."""
    check_starts(restarts, "restarts")
    risk = prior_risk(prior, latent_dim, m, noise, seed, device)
    plane = make_plane(risk, stream(seed, PLANE_STREAM))
    starts = torch.randn((1, restarts, latent_dim), generator=stream(seed, START_STREAM)).to(device)
    return risk, plane, starts


def slice_map(risk: Risk, plane: Plane, n: int) -> HeatMap:
    """f on the plane's box [−1.6, 1.6]² (units of ‖z*‖): z* at (1, 0), −z* at (−1, 0)."""
    axis, values = plane_slice(risk, plane, SLICE_HALF_WIDTH, n)
    return HeatMap(axis, values, np.array([1.0, 0.0]), np.array([-1.0, 0.0]))
