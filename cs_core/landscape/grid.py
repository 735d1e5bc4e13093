"""The risk f(z) = ½‖A G(z) − y‖² on a plane: a heat map for k = 2, a 2-D slice for any k.

- :func:`grid_k2` evaluates f on an n×n grid over a square box of the latent plane (k = 2 only).
- :func:`plane_slice` evaluates f on the plane through z*, −z* and 0 spanned by ẑ* = z*/‖z*‖ and a
  random unit direction u ⟂ z*: the point with coordinates (a, b) is z = ‖z*‖ (a ẑ* + b u), so z*
  sits at (1, 0), −ρ_d z* at (−ρ_d, 0), and 0 at the origin. Any latent can be projected onto the
  plane with :meth:`Plane.project` (e.g. CSGM's restarts, which move in all k dimensions).
Both use trial 0 of the risk and evaluate in chunks, without gradients.
"""
from dataclasses import dataclass

import torch

from ..errors import InputError
from .risk import Risk

MAX_GRID = 400
CHUNK = 8192


def check_grid(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_GRID:
        raise InputError(f"grid size must be a whole number from 2 to {MAX_GRID}; got {n}")
    return n


def evaluate(risk: Risk, points: torch.Tensor) -> torch.Tensor:
    """f at latents (N, k) of trial 0 → (N,), in chunks."""
    one = Risk(risk.generator, risk.A[:1], risk.y[:1], risk.z_star[:1], risk.noise, risk.step_unit, risk.tolerance[:1])
    with torch.no_grad():
        return torch.cat([one(chunk[None].to(risk.device))[0] for chunk in points.split(CHUNK)])


def grid_k2(risk: Risk, half_width: float, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """f on an n×n grid over [−h, h]² → (axis (n,), values (n, n) indexed [row = z₂, column = z₁])."""
    if risk.k != 2:
        raise InputError(f"the heat map needs a 2-dimensional latent (k = 2); got k = {risk.k}")
    check_grid(n)
    axis = torch.linspace(-half_width, half_width, n, device=risk.device)
    z2, z1 = torch.meshgrid(axis, axis, indexing="ij")
    values = evaluate(risk, torch.stack([z1.flatten(), z2.flatten()], dim=1))
    return axis.cpu(), values.reshape(n, n).cpu()


@dataclass
class Plane:
    scale: float            # ‖z*‖
    e1: torch.Tensor        # ẑ* (k,)
    e2: torch.Tensor        # u ⟂ ẑ*, unit (k,)

    def point(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Latents z = ‖z*‖ (a ẑ* + b u), shape (*a.shape, k)."""
        return self.scale * (a[..., None] * self.e1 + b[..., None] * self.e2)

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """Coordinates (a, b) of latents (..., k) projected onto the plane, shape (..., 2)."""
        z = z.to(self.e1.device)
        return torch.stack([z @ self.e1, z @ self.e2], dim=-1) / self.scale


def make_plane(risk: Risk, generator: torch.Generator) -> Plane:
    """The plane of trial 0 through z*, −z* and 0 with a random orthogonal direction drawn from ``generator``."""
    z_star = risk.z_star[0]
    e1 = z_star / z_star.norm()
    if risk.k == 1:
        raise InputError("a 2-D slice needs a latent of dimension k ≥ 2")
    u = torch.randn(risk.k, generator=generator).to(risk.device)
    u = u - (u @ e1) * e1
    return Plane(float(z_star.norm()), e1, u / u.norm())


def plane_slice(risk: Risk, plane: Plane, half_width: float, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """f on an n×n grid of plane coordinates [−h, h]² → (axis (n,), values (n, n) [row = b, column = a])."""
    check_grid(n)
    axis = torch.linspace(-half_width, half_width, n, device=risk.device)
    b, a = torch.meshgrid(axis, axis, indexing="ij")
    values = evaluate(risk, plane.point(a.flatten(), b.flatten()))
    return axis.cpu(), values.reshape(n, n).cpu()
