"""Lasso in an orthonormal basis, solved by FISTA (Beck & Teboulle, 2009).

    minimise_c  F(c) = ½‖y − AΨc‖² + λ‖c‖₁,    x̂ = Ψĉ

Two step rules (``LassoSettings.step``); Ψ orthonormal, so ‖AΨ‖ = ‖A‖:

- ``"backtracking"`` (the default): FISTA with backtracking that lets L go down as well as up (Scheinberg,
  Goldfarb & Bai 2014), per image. L₀ is a Rayleigh quotient of AᵀA (≤ ‖A‖²); each iteration first tries
  max(0.95·L, L₀) and doubles it until ‖AΨd‖² ≤ L‖d‖² for the step d = c⁺ − v. For this quadratic f that
  is exactly the sufficient decrease f(c⁺) ≤ f(v) + ⟨∇f(v), d⟩ + L/2‖d‖², computed without cancellation;
  it holds for every d once L ≥ ‖A‖², so L never exceeds 2‖A‖² and a step is retried at most
  log₂(‖A‖²/L₀) + 1 times. Momentum follows L: t⁺ = (1 + √(1 + 4(L'/L)t²))/2 with L' the first trial
  (≤ the accepted L⁺), so (t⁺² − t⁺)/L⁺ ≤ t²/L and Beck–Teboulle's bound F(c_k) − F* ≤ L_k‖c₀ − c*‖²/(2t_k²)
  holds with the local L's in place of ‖A‖². On the bench's faces problem L settles at 3–8 against
  ‖A‖² ≈ 35: 2.3× fewer iterations (docs/benchmarks.md). (Monotone backtracking, L never decreasing, gains little there: the
  first step, along ΨᵀAᵀy, already needs L ≈ 31.)
- ``"power"``: the constant step 1/L with L = 1.05·‖A‖² from a power iteration, which approaches from below
  (within 2 % after 100 steps on Gaussian A), so a 5 % margin keeps it safe. The published sweeps use it.

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
STEP_RULES = ("backtracking", "power")
BACKTRACKING_DECREASE = 0.95  # each iteration first tries L·0.95 (docs/benchmarks.md: 0.9 and 0.98 measured)
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
    step: str = "backtracking"      # or "power" (see the module docstring)

    def __post_init__(self):
        if self.step not in STEP_RULES:
            raise ValueError(f"step must be one of {', '.join(STEP_RULES)}; got {self.step!r}")


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


class PowerStep:
    """Step 1/L, L = 1.05·‖A‖² by power iteration, the same for every image and iteration."""

    def __init__(self, problem: Problem, basis: Basis, coeffs: torch.Tensor):
        self.problem, self.basis = problem, basis
        self.lipschitz = max(LIPSCHITZ_MARGIN * problem.operator.norm_squared(), 1e-12)
        self.coeffs = self.momentum = coeffs
        self.t = 1.0

    def step(self, lam: torch.Tensor) -> torch.Tensor:
        """One FISTA iteration; returns the new iterate c."""
        op, y = self.problem.operator, self.problem.y
        gradient = self.basis.analysis(op.A_adjoint(op.A(self.basis.synthesis(self.momentum)) - y))
        new = soft_threshold(self.momentum - gradient / self.lipschitz, lam / self.lipschitz)
        t_next = (1 + (1 + 4 * self.t * self.t) ** 0.5) / 2
        self.momentum = new + ((self.t - 1) / t_next) * (new - self.coeffs)
        self.coeffs, self.t = new, t_next
        return new

    def extra(self) -> dict:
        return {"lipschitz": [self.lipschitz] * self.problem.batch}


class BacktrackingStep:
    """Backtracking per image (module docstring). AΨc is carried in float64 by linearity (AΨc⁺ = AΨv + AΨd,
    AΨv = AΨc + β(AΨc − AΨc₋)), so an iteration costs one Aᵀ and one A, and each retried step one more A."""

    def __init__(self, problem: Problem, basis: Basis, coeffs: torch.Tensor):
        self.problem, self.basis = problem, basis
        op, batch = problem.operator, coeffs.shape[0]
        probe = torch.randn(coeffs.shape[1:], generator=torch.Generator().manual_seed(0)).to(coeffs.device)
        rayleigh = (op.A(basis.synthesis(probe[None])).double() ** 2).sum() / (probe.double() ** 2).sum()
        self.floor = float(rayleigh.clamp_min(1e-12))  # L₀ ≤ ‖A‖²
        self.lipschitz = torch.full((batch,), self.floor, dtype=torch.float64, device=coeffs.device)  # (B,)
        self.t = torch.ones(batch, dtype=torch.float64, device=coeffs.device)
        self.coeffs = self.previous = coeffs
        self.a_coeffs = self.a_previous = op.A(basis.synthesis(coeffs)).double()
        self.backtracks = torch.zeros(batch, dtype=torch.long, device=coeffs.device)

    def step(self, lam: torch.Tensor) -> torch.Tensor:
        """One FISTA iteration; returns the new iterate c. Momentum uses each image's first trial L."""
        op, y, x = self.problem.operator, self.problem.y.double(), self.coeffs
        trial = (BACKTRACKING_DECREASE * self.lipschitz).clamp_min(self.floor)
        t_next = (1 + (1 + 4 * (trial / self.lipschitz) * self.t ** 2).sqrt()) / 2
        beta = (self.t - 1) / t_next
        v = x + beta.to(x.dtype).reshape(-1, 1, 1, 1) * (x - self.previous)
        a_v = self.a_coeffs + beta[:, None] * (self.a_coeffs - self.a_previous)
        gradient = self.basis.analysis(op.A_adjoint((a_v - y).to(x.dtype)))
        new, a_step, ok = self._try(v, gradient, lam, trial)
        a_new = a_v + a_step
        todo = (~ok).nonzero().flatten()
        while len(todo):  # the images whose step is not accepted yet: double L, same v
            trial[todo] *= 2
            self.backtracks[todo] += 1
            c, a_step, ok = self._try(v[todo], gradient[todo], lam[todo], trial[todo])
            new[todo[ok]], a_new[todo[ok]] = c[ok], (a_v[todo] + a_step)[ok]
            todo = todo[~ok]
        self.previous, self.coeffs = x, new
        self.a_previous, self.a_coeffs = self.a_coeffs, a_new
        self.t, self.lipschitz = t_next, trial
        return new

    def _try(self, v, gradient, lam, lipschitz):
        """c = soft(v − ∇f(v)/L, λ/L), AΨ(c − v) and whether f(c) ≤ f(v) + ⟨∇f(v), d⟩ + L/2‖d‖² (d = c − v)."""
        step = lipschitz.to(v.dtype).reshape(-1, 1, 1, 1)
        c = soft_threshold(v - gradient / step, lam / step)
        d = c - v
        a_step = self.problem.operator.A(self.basis.synthesis(d)).double()
        return c, a_step, (a_step ** 2).sum(1) <= lipschitz * (d.double() ** 2).flatten(1).sum(1)

    def extra(self) -> dict:
        """L per image and how many steps were retried with a doubled L so far (per image)."""
        return {"lipschitz": self.lipschitz.tolist(), "backtracks": self.backtracks.tolist()}


STEPS = {"backtracking": BacktrackingStep, "power": PowerStep}


def fista(problem: Problem, basis: Basis, settings: LassoSettings, every: int | None = None,
          method: str = "lasso"):
    """Yield snapshots of FISTA on ½‖y − AΨc‖² + λ‖c‖₁ every ``every`` iterations and at the end
    (``extra``: λ, the step's L and, for backtracking, the retried steps, per image)."""
    op, y = problem.operator, problem.y
    watch = StopWatch(problem.device)
    watch.start()
    batch = y.shape[0]
    lam = choose_lambda(problem, basis, settings).reshape(batch, 1, 1, 1)
    rule = STEPS[settings.step](problem, basis, torch.zeros((batch, *op.image_shape), device=y.device))

    def evaluate(c):
        x = basis.synthesis(c)
        residual = ((op.A(x) - y) ** 2).sum(1)
        objective = 0.5 * residual + lam.flatten() * c.abs().flatten(1).sum(1)
        return x, residual, objective

    for iteration in range(1, settings.iterations + 1):
        coeffs = rule.step(lam)
        final = iteration == settings.iterations
        if final or wants_snapshot(iteration, every):
            x, residual, objective = evaluate(coeffs)
            seconds = watch.stop()
            yield make_snapshot(method, iteration, x, residual, objective, seconds, problem.truth, final=final,
                                lam=lam.flatten().tolist(), **rule.extra())
            watch.start()
