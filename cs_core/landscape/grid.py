"""The risk f(z) = ½‖A G(z) − y‖² on a plane: a heat map for k = 2, a 2-D slice for any k.

- :func:`grid_k2` evaluates f on an n×n grid over a square box of the latent plane (k = 2 only),
  exactly and fast: without biases the linear regions of a ReLU net on R² are angular sectors
  (cones), G(z) = Λ_s z on sector s, so f(z) = ½ zᵀ(Λ_sᵀAᵀAΛ_s) z − (Λ_sᵀAᵀy)ᵀz + ½‖y‖² there. The
  sectors are found layer by layer (where each neuron's pre-activation changes sign).
- :func:`plane_slice` evaluates f on the plane through z*, −z* and 0 spanned by ẑ* = z*/‖z*‖ and a
  random unit direction u ⟂ z*: the point with coordinates (a, b) is z = ‖z*‖ (a ẑ* + b u), so z*
  sits at (1, 0), −ρ_d z* at (−ρ_d, 0), and 0 at the origin. Any latent can be projected onto the
  plane with :meth:`Plane.project` (e.g. CSGM's restarts, which move in all k dimensions).
Both use trial 0 of the risk and evaluate in chunks, without gradients.
"""
import math
from dataclasses import dataclass

import torch

from ..errors import InputError
from .network import ReLUNet
from .risk import Risk

MAX_GRID = 400
CHUNK_OUTPUTS = 1 << 19    # generator outputs per batch of :func:`evaluate` (2 MiB of float32): a trained prior's
                           # activations stay within tens of MiB (the DCGAN: 42 latents, ~40 MiB; 400 at once: +350)
SECTOR_CHUNK = 512


def check_grid(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_GRID:
        raise InputError(f"grid size must be a whole number from 2 to {MAX_GRID}; got {n}")
    return n


def chunk_size(risk: Risk) -> int:
    """Latents per batch of :func:`evaluate`: at most ``CHUNK_OUTPUTS`` generator outputs (n each), at least one."""
    return max(1, CHUNK_OUTPUTS // risk.A.shape[-1])


def evaluate(risk: Risk, points: torch.Tensor) -> torch.Tensor:
    """f at latents (N, k) of trial 0 → (N,), in batches of :func:`chunk_size` latents."""
    one = Risk(risk.generator, risk.A[:1], risk.y[:1], risk.z_star[:1], risk.noise, risk.step_unit, risk.tolerance[:1])
    with torch.no_grad():
        return torch.cat([one(chunk[None].to(risk.device))[0] for chunk in points.split(chunk_size(risk))])


def sectors(net: ReLUNet, trial: int = 0) -> torch.Tensor:
    """The cones on which G (k = 2) is linear, as sorted start angles (S,) in [0, 2π); sector s runs to
    the next start, the last one wraps round."""
    weights = [w[trial].double() for w in net.weights]
    starts = torch.zeros(1, dtype=torch.float64, device=weights[0].device)
    for layer, weight in enumerate(weights):
        ends = torch.cat([starts[1:], starts[:1] + 2 * math.pi])
        pre = weight @ _jacobians(weights[:layer], (starts + ends) / 2)            # (S, n, 2): p·u on sector s
        zero = torch.remainder(torch.atan2(pre[..., 0], -pre[..., 1]), math.pi)    # p ⟂ (cos θ, sin θ)
        cuts = [starts]
        for angle in (zero, zero + math.pi):
            offset = torch.remainder(angle - starts[:, None], 2 * math.pi)
            cuts.append(angle[(offset > 0) & (offset < (ends - starts)[:, None])])
        starts = torch.unique(torch.cat(cuts))
    return starts


def _jacobians(weights: list[torch.Tensor], angles: torch.Tensor) -> torch.Tensor:
    """Λ at the unit vectors of ``angles`` (S,): the product of the W_i with inactive rows zeroed, (S, n, 2)."""
    jac = torch.eye(2, dtype=torch.float64, device=angles.device).expand(len(angles), 2, 2)
    u = torch.stack([angles.cos(), angles.sin()], dim=1)
    for weight in weights:
        jac = weight @ jac
        jac = jac * ((jac @ u[:, :, None]) > 0)
    return jac


def grid_k2(risk: Risk, half_width: float, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """f on an n×n grid over [−h, h]² → (axis (n,), values (n, n) indexed [row = z₂, column = z₁]), trial 0."""
    if risk.k != 2:
        raise InputError(f"the heat map needs a 2-dimensional latent (k = 2); got k = {risk.k}")
    if not isinstance(risk.generator, ReLUNet):
        raise InputError("the k = 2 heat map is for the random ReLU generator; use a plane slice for trained priors")
    check_grid(n)
    starts = sectors(risk.generator)
    ends = torch.cat([starts[1:], starts[:1] + 2 * math.pi])
    weights = [w[0].double() for w in risk.generator.weights]
    A, y = risk.A[0].double(), risk.y[0].double()
    Q, b = [], []
    for mid in ((starts + ends) / 2).split(SECTOR_CHUNK):
        jac = _jacobians(weights, mid)                                   # (S, n_d, 2)
        B = (A @ jac.permute(1, 0, 2).reshape(A.shape[1], -1)).reshape(A.shape[0], len(mid), 2).permute(1, 0, 2)
        Q.append(B.transpose(1, 2) @ B)
        b.append(B.transpose(1, 2) @ y)
    Q, b, c = torch.cat(Q), torch.cat(b), 0.5 * float(y @ y)
    axis = torch.linspace(-half_width, half_width, n, device=risk.device, dtype=torch.float64)
    z2, z1 = torch.meshgrid(axis, axis, indexing="ij")
    z = torch.stack([z1.flatten(), z2.flatten()], dim=1)
    theta = torch.remainder(torch.atan2(z[:, 1], z[:, 0]), 2 * math.pi)
    s = torch.remainder(torch.searchsorted(starts, theta, right=True) - 1, len(starts))
    values = 0.5 * torch.einsum("pi,pij,pj->p", z, Q[s], z) - (b[s] * z).sum(1) + c
    return axis.float().cpu(), values.clamp_min(0).reshape(n, n).float().cpu()


@dataclass
class Plane:
    scale: float            # ‖z*‖
    e1: torch.Tensor        # ẑ* (k,)
    e2: torch.Tensor        # u ⟂ ẑ*, unit (k,)

    def point(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Latents z = ‖z*‖ (a ẑ* + b u), shape (*a.shape, k), on the plane's device."""
        a, b = a.to(self.e1.device), b.to(self.e1.device)
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
