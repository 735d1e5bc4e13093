"""Lasso in an orthonormal basis, solved by FISTA (Beck & Teboulle, 2009).

    minimise_c  F(c) = ½‖y − AΨc‖² + λ‖c‖₁,    x̂ = Ψĉ

Step 1/L with L found per image and per iteration by backtracking (Beck & Teboulle's sufficient
decrease f(c⁺) ≤ f(v) + ∇f(v)·(c⁺ − v) + L/2‖c⁺ − v‖², f = ½‖y − AΨ·‖², which for this quadratic f
reads ‖AΨ(c⁺ − v)‖² ≤ L‖c⁺ − v‖²; L doubles until it holds),
starting each iteration from ``STEP_RELAX``·L of the last one: L follows the curvature of A along the
sparse steps actually taken, often 10× below ‖A‖², so no power iteration is needed and steps are longer.
AΨc is carried along (AΨv of the momentum point is a combination of the last two), so an iteration costs
one A and one Aᵀ, plus one A per doubling.
Default λ = ``ratio`` · λ_max with λ_max = ‖ΨᵀAᵀy‖∞ (the smallest λ whose solution is c = 0), with
``ratio`` per operator in ``DEFAULT_LAMBDA_RATIO``: scale-free, so it means the same at every m and σ.
"""
from dataclasses import dataclass

import torch

from ..bases import Basis
from ..problem import Problem
from .snapshot import StopWatch, make_snapshot, wants_snapshot

DEFAULT_ITERATIONS = 300
STEP_RELAX = 0.9         # each iteration first tries 0.9 × the last accepted L
DECREASE_SLACK = 1e-4    # relative float32 slack in the sufficient-decrease test ...
ROUNDING = 1e-12         # ... and an absolute one, a fraction of ‖y‖²
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
    batch = y.shape[0]
    shape = (batch, 1, 1, 1)
    lam = choose_lambda(problem, basis, settings).reshape(shape)
    back = op.A_adjoint(y)  # a Rayleigh quotient ‖AAᵀy‖²/‖Aᵀy‖² ≤ ‖A‖² starts L
    lipschitz = ((op.A(back) ** 2).sum(1) / (back ** 2).flatten(1).sum(1).clamp_min(1e-30)).clamp_min(1e-12)
    coeffs = torch.zeros((batch, *op.image_shape), device=y.device)
    a_coeffs = torch.zeros_like(y)          # AΨc
    momentum, a_momentum, t = coeffs, a_coeffs, 1.0
    floor = ROUNDING * (y ** 2).sum(1)  # below this, AΨ(c⁺ − v) is float32 rounding

    for iteration in range(1, settings.iterations + 1):
        residual = a_momentum - y
        gradient = basis.analysis(op.A_adjoint(residual))
        lipschitz = lipschitz * STEP_RELAX
        todo = torch.ones(batch, dtype=torch.bool, device=y.device)
        new, a_new = coeffs, a_coeffs
        while True:
            step = lipschitz.reshape(shape)
            trial = soft_threshold(momentum - gradient / step, lam / step)
            a_trial = op.A(basis.synthesis(trial))
            # Since f is quadratic, the sufficient decrease is ‖AΨ(c⁺ − v)‖² ≤ L‖c⁺ − v‖² (no cancellation).
            curvature = ((a_trial - a_momentum) ** 2).sum(1)
            ok = curvature <= lipschitz * ((trial - momentum) ** 2).flatten(1).sum(1) * (1 + DECREASE_SLACK) + floor
            new = torch.where((todo & ok).reshape(shape), trial, new)
            a_new = torch.where((todo & ok)[:, None], a_trial, a_new)
            todo = todo & ~ok
            if not todo.any():
                break
            lipschitz = torch.where(todo, 2 * lipschitz, lipschitz)
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        beta = (t - 1) / t_next
        momentum, a_momentum = new + beta * (new - coeffs), a_new + beta * (a_new - a_coeffs)
        coeffs, a_coeffs, t = new, a_new, t_next
        final = iteration == settings.iterations
        if final or wants_snapshot(iteration, every):
            residual = ((a_coeffs - y) ** 2).sum(1)
            objective = 0.5 * residual + lam.flatten() * coeffs.abs().flatten(1).sum(1)
            x = basis.synthesis(coeffs)
            seconds = watch.stop()
            yield make_snapshot(method, iteration, x, residual, objective, seconds, problem.truth, final=final,
                                lam=lam.flatten().tolist())
            watch.start()
