"""A compressed-sensing problem: the operator A, the measurements y = A x* + σε, and (when known) x*."""
from dataclasses import dataclass

import torch

from .domains import Domain
from .errors import InputError
from .operators import LinearOperator, add_noise, build_operator

# Independent random streams derived from one seed: operator (matrix or mask), noise, solver starts.
OPERATOR_STREAM, NOISE_STREAM, SOLVER_STREAM = 0, 1, 2


def stream(seed: int, which: int) -> torch.Generator:
    """A CPU generator for one of the seed's streams (CPU so results match across devices)."""
    return torch.Generator().manual_seed(int(seed) * 3 + which)


@dataclass
class Problem:
    domain: Domain
    operator: LinearOperator
    y: torch.Tensor                   # (B, m)
    noise: float
    seed: int
    truth: torch.Tensor | None = None  # (B, C, H, W) in [0, 1], when known

    @property
    def device(self) -> torch.device:
        return self.y.device

    @property
    def batch(self) -> int:
        return self.y.shape[0]

    def view(self) -> torch.Tensor:
        """What the sensor saw, ``(B, C, H, W)`` in [0, 1]."""
        return self.operator.view(self.y)


def check_noise(noise: float) -> float:
    if not isinstance(noise, (int, float)) or not noise == noise or noise < 0 or noise == float("inf"):
        raise InputError(f"noise σ must be a finite number ≥ 0; got {noise}")
    return float(noise)


def make_problem(truth: torch.Tensor, domain: Domain, operator: str, params: dict, noise: float,
                 seed: int, device: torch.device) -> Problem:
    """Measure ``truth`` (B, C, H, W) with the named operator: y = A x* + σε, all drawn from ``seed``."""
    noise = check_noise(noise)
    op = build_operator(operator, domain, params, stream(seed, OPERATOR_STREAM), device)
    truth = truth.to(device=device, dtype=torch.float32)
    y = add_noise(op.A(truth), noise, stream(seed, NOISE_STREAM))
    return Problem(domain, op, y, noise, seed, truth)
