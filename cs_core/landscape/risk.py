"""The empirical risk of compressive sensing under a generative prior, batched over nets and starts.

.. math:: f(z) = \\tfrac12 \\lVert A\\,G(z) - y \\rVert^2,\\qquad y = A\\,G(z^*) + \\sigma\\varepsilon,

with A ∈ R^{m×n} of i.i.d. N(0, 1/m) entries and ε ~ N(0, I). For random nets, z* is a random
direction scaled so that ‖G(z*)‖ = 1 (as in Huang, Hand, Heckel & Voroninski's experiments).
Shapes: T independent problems (trials), S starting points each; latents are (T, S, k).
"""
import math
from dataclasses import dataclass
from typing import Callable

import torch

from ..errors import InputError
from .network import ReLUNet, check_widths, random_relu_net

MAX_M = 5000
MAX_PARAMETERS = 60_000_000  # floats held by all trials' weights and matrices together
SUCCESS_ERROR = 1e-3         # relative error ‖z − z*‖/‖z*‖ that counts as reaching z* without noise
NOISE_FACTOR = 3.0           # with noise: within this many noise floors of z* (see ``noise_floor``)

# Independent random streams of one seed: nets, matrices and z*, noise, starts.
NET_STREAM, MEASURE_STREAM, NOISE_STREAM, START_STREAM = range(4)


def stream(seed: int, which: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed) * 5 + which)


@dataclass
class Risk:
    generator: Callable[[torch.Tensor], torch.Tensor]  # (T, S, k) → (T, S, n)
    A: torch.Tensor          # (T, m, n)
    y: torch.Tensor          # (T, m)
    z_star: torch.Tensor     # (T, k)
    noise: float
    step_unit: float         # inverse curvature of f at z* (2^d for a wide random d-layer net)
    tolerance: torch.Tensor  # (T,) relative error ‖z − z*‖/‖z*‖ that counts as reaching z*

    @property
    def k(self) -> int:
        return self.z_star.shape[1]

    @property
    def device(self) -> torch.device:
        return self.y.device

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """f at latents (T, S, k) → (T, S)."""
        residual = self.generator(z) @ self.A.transpose(1, 2) - self.y[:, None]
        return 0.5 * (residual ** 2).sum(-1)

    def cosine(self, z: torch.Tensor) -> torch.Tensor:
        """cos∠(z, z*) per start, (T, S)."""
        return torch.nn.functional.cosine_similarity(z, self.z_star[:, None], dim=-1)

    def norm_ratio(self, z: torch.Tensor) -> torch.Tensor:
        """‖z‖ / ‖z*‖ per start, (T, S)."""
        return z.norm(dim=-1) / self.z_star.norm(dim=-1)[:, None]

    def relative_error(self, z: torch.Tensor) -> torch.Tensor:
        """‖z − z*‖ / ‖z*‖ per start, (T, S)."""
        return (z - self.z_star[:, None]).norm(dim=-1) / self.z_star.norm(dim=-1)[:, None]

    def reached(self, z: torch.Tensor) -> torch.Tensor:
        return self.relative_error(z) < self.tolerance[:, None]


def noise_floor(noise: float, k: int, depth: int, z_norm: torch.Tensor) -> torch.Tensor:
    """Relative error of least squares near z*: ‖(AΛ)⁺ε‖σ/‖z*‖ ≈ σ√k·2^(d/2)/‖z*‖ (AΛ has singular values ≈ 2^(-d/2))."""
    return noise * math.sqrt(k) * 2 ** (depth / 2) / z_norm


def check_m(m: int) -> int:
    if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= MAX_M:
        raise InputError(f"m must be a whole number from 1 to {MAX_M}; got {m}")
    return m


def check_noise(noise: float) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not math.isfinite(noise) or noise < 0:
        raise InputError(f"noise σ must be a finite number ≥ 0; got {noise}")
    return float(noise)


def random_risk(k: int, widths: list[int], m: int, noise: float, seed: int, device: torch.device,
                trials: int = 1) -> tuple[Risk, ReLUNet]:
    """``trials`` independent problems: a random net, A, z* with ‖G(z*)‖ = 1, and y, all from ``seed``."""
    check_widths(k, widths)
    check_m(m)
    noise = check_noise(noise)
    floats = trials * (sum(a * b for a, b in zip([k, *widths], widths)) + m * widths[-1])
    if floats > MAX_PARAMETERS:
        raise InputError(f"too large: trials × (weights + m·n_d) = {floats:,} floats; the limit is "
                         f"{MAX_PARAMETERS:,}; use fewer trials, a smaller m or narrower layers")
    net = random_relu_net(k, widths, trials, stream(seed, NET_STREAM), device)
    # z* is drawn before A, so every m sees the same nets and the same z*.
    measure = stream(seed, MEASURE_STREAM)
    direction = torch.randn((trials, 1, k), generator=measure).to(device)
    A = (torch.randn((trials, m, widths[-1]), generator=measure) / math.sqrt(m)).to(device)
    with torch.no_grad():
        # G is positively homogeneous, so dividing by ‖G(direction)‖ makes ‖G(z*)‖ = 1.
        z_star = direction / net(direction).norm(dim=-1, keepdim=True).clamp_min(1e-12)
        x_star = net(z_star)[:, 0]
    eps = torch.randn((trials, m), generator=stream(seed, NOISE_STREAM)).to(device)
    y = torch.einsum("tmn,tn->tm", A, x_star) + noise * eps
    z_star = z_star[:, 0]
    depth = len(widths)
    tolerance = torch.clamp(NOISE_FACTOR * noise_floor(noise, k, depth, z_star.norm(dim=-1)), min=SUCCESS_ERROR)
    return Risk(net, A, y, z_star, noise, 2.0 ** depth, tolerance), net


def prior_risk(prior: torch.nn.Module, latent_dim: int, m: int, noise: float, seed: int,
               device: torch.device) -> Risk:
    """One problem for a trained prior G: (N, latent) → images: z* ~ N(0, I), A of N(0, 1/m) entries."""
    check_m(m)
    noise = check_noise(noise)
    measure = stream(seed, MEASURE_STREAM)
    z_star = torch.randn((1, latent_dim), generator=measure).to(device)

    def generator(z):
        return prior(z.reshape(-1, latent_dim)).reshape(z.shape[0], z.shape[1], -1)

    with torch.no_grad():
        x_star = generator(z_star[:, None])[:, 0]
    A = torch.randn((1, m, x_star.shape[-1]), generator=measure).div_(math.sqrt(m)).to(device)  # in place: one copy
    eps = torch.randn((1, m), generator=stream(seed, NOISE_STREAM)).to(device)
    y = torch.einsum("tmn,tn->tm", A, x_star) + noise * eps
    return Risk(generator, A, y, z_star, noise, 1.0, torch.full((1,), SUCCESS_ERROR, device=device))


def random_starts(risk: Risk, starts: int, seed: int) -> torch.Tensor:
    """(T, starts, k) isotropic Gaussian starts at the scale of z*: z₀ ~ N(0, ‖z*‖²/k · I)."""
    g = torch.randn((risk.z_star.shape[0], starts, risk.k), generator=stream(seed, START_STREAM)).to(risk.device)
    return g * risk.z_star.norm(dim=-1)[:, None, None] / math.sqrt(risk.k)
