"""Lasso in an orthonormal basis, solved by FISTA (Beck & Teboulle, 2009).

    minimise_c  F(c) = ½‖y − AΨc‖² + λ‖c‖₁,    x̂ = Ψĉ

Step 1/L with L = 1.05·‖A‖² (Ψ orthonormal, so ‖AΨ‖ = ‖A‖): ‖A‖² from a power iteration, which
approaches from below (within 2 % after 100 steps on Gaussian A), so a 5 % margin keeps it safe.
Default λ = ``ratio`` · λ_max with λ_max = ‖ΨᵀAᵀy‖∞ (the smallest λ whose solution is c = 0), with
``ratio`` per operator in ``DEFAULT_LAMBDA_RATIO``: scale-free, so it means the same at every m and σ.
"""
from dataclasses import dataclass

import torch

from ..bases import Basis
from ..problem import Problem
from .snapshot import StopWatch, make_snapshot, wants_snapshot

DEFAULT_ITERATIONS = 300
LIPSCHITZ_MARGIN = 1.05
# From a coarse sweep of ratio ∈ {0.002, 0.01, 0.02, 0.05, 0.1} at 300 iterations on sample photos and
# digits (docs/RESULTS.md's sweeps choose λ per m on the validation split instead). fourier (R = 4) and
# blur (Gaussian σ = 1.5), noise σ = 0.01: the ratio of experiments.LAMBDA_GRID with the lowest mean
# validation MSE for lasso-wavelet on validation faces (lasso-dct agreed within one grid step; docs/RESULTS.md).
DEFAULT_LAMBDA_RATIO = {"gaussian": 0.01, "inpaint": 0.002, "superres": 0.002, "fourier": 0.0003, "blur": 0.0001}


@dataclass
class LassoSettings:
    iterations: int = DEFAULT_ITERATIONS
    lam: float | None = None        # absolute λ, the same for every image
    lam_ratio: float | torch.Tensor | None = None  # else λ = lam_ratio · λ_max per image (a (B,) tensor:
                                                   # one ratio per image); default: per operator


def lambda_max(problem: Problem, basis: Basis) -> torch.Tensor:
    """‖ΨᵀAᵀy‖∞ per image, shape (B,)."""
    return basis.analysis(problem.operator.A_adjoint(problem.y)).abs().flatten(1).max(1).values


def choose_lambda(problem: Problem, basis: Basis, settings: LassoSettings) -> torch.Tensor:
    """λ per image, shape (B,): the absolute ``lam`` if set, else ratio · λ_max."""
    if settings.lam is not None:
        return torch.full((problem.batch,), float(settings.lam), device=problem.device)
    ratio = DEFAULT_LAMBDA_RATIO[problem.operator.name] if settings.lam_ratio is None else settings.lam_ratio
    return ratio * lambda_max(problem, basis)


def soft_threshold(c: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    return torch.sign(c) * (c.abs() - threshold).clamp_min(0)


def fista(problem: Problem, basis: Basis, settings: LassoSettings, every: int | None = None,
          method: str = "lasso"):
    """Yield snapshots of FISTA on ½‖y − AΨc‖² + λ‖c‖₁ every ``every`` iterations and at the end."""
    op, y = problem.operator, problem.y
    watch = StopWatch(problem.device)
    watch.start()
    lipschitz = max(LIPSCHITZ_MARGIN * op.norm_squared(), 1e-12)
    batch = y.shape[0]
    lam = choose_lambda(problem, basis, settings).reshape(batch, 1, 1, 1)
    coeffs = torch.zeros((batch, *op.image_shape), device=y.device)
    momentum, t = coeffs, 1.0

    def evaluate(c):
        x = basis.synthesis(c)
        residual = ((op.A(x) - y) ** 2).sum(1)
        objective = 0.5 * residual + lam.flatten() * c.abs().flatten(1).sum(1)
        return x, residual, objective

    for iteration in range(1, settings.iterations + 1):
        gradient = basis.analysis(op.A_adjoint(op.A(basis.synthesis(momentum)) - y))
        new = soft_threshold(momentum - gradient / lipschitz, lam / lipschitz)
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        momentum = new + ((t - 1) / t_next) * (new - coeffs)
        coeffs, t = new, t_next
        final = iteration == settings.iterations
        if final or wants_snapshot(iteration, every):
            x, residual, objective = evaluate(coeffs)
            seconds = watch.stop()
            yield make_snapshot(method, iteration, x, residual, objective, seconds, problem.truth, final=final,
                                lam=lam.flatten().tolist())
            watch.start()
