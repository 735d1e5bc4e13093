"""One FISTA iteration of ½‖y − AΨc‖² + λ‖c‖₁ per step rule: the constant step 1/L (``PowerStep``) and
backtracking per image with AΨc carried (``BacktrackingStep``); the snapshot of an iterate."""
import torch

from ...bases import Basis
from ...problem import Problem
from ..snapshot import make_snapshot

LIPSCHITZ_MARGIN = 1.05
BACKTRACKING_DECREASE = 0.95  # each iteration first tries L·0.95 (docs/benchmarks.md: 0.9 and 0.98 measured)
REFRESH_EVERY = 100  # backtracking iterations between exact recomputations of the carried AΨc (2 % more A)


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

    measured = None  # AΨc is not carried: snapshots compute it

    def extra(self) -> dict:
        return {"lipschitz": [self.lipschitz] * self.problem.batch}


def rayleigh_floor(problem: Problem, basis: Basis, coeffs: torch.Tensor) -> float:
    """L₀ = ‖AΨp‖²/‖p‖² ≤ ‖A‖² for a seeded random p of the coefficients' shape (the smallest over the batch
    when A differs per image)."""
    probe = torch.randn(coeffs.shape[1:], generator=torch.Generator().manual_seed(0)).to(coeffs.device)
    measured = (problem.operator.A(basis.synthesis(probe[None])).double() ** 2).sum(1)
    return float((measured.min() / (probe.double() ** 2).sum()).clamp_min(1e-12))


class BacktrackingStep:
    """Backtracking per image (module docstring). AΨc is carried in float64 by linearity (AΨc⁺ = AΨv + AΨd,
    AΨv = AΨc + β(AΨc − AΨc₋)), so an iteration costs one Aᵀ and one A, and each retried step one more A; every
    ``REFRESH_EVERY`` iterations two more A recompute AΨc and AΨc₋ from c and c₋ (the carried sums drift by
    rounding: 8e-3 relative after 10 000 iterations without, and the objective 1e-3 above the minimum)."""

    def __init__(self, problem: Problem, basis: Basis, coeffs: torch.Tensor, floor: float | None = None):
        self.problem, self.basis = problem, basis
        op, batch = problem.operator, coeffs.shape[0]
        self.floor = rayleigh_floor(problem, basis, coeffs) if floor is None else floor  # L₀
        self.lipschitz = torch.full((batch,), self.floor, dtype=torch.float64, device=coeffs.device)  # (B,)
        self.t = torch.ones(batch, dtype=torch.float64, device=coeffs.device)
        self.coeffs = self.previous = coeffs
        self.a_coeffs = self.a_previous = op.A(basis.synthesis(coeffs)).double()
        self.backtracks = torch.zeros(batch, dtype=torch.long, device=coeffs.device)
        self.iterations = 0

    def step(self, lam: torch.Tensor) -> torch.Tensor:
        """One FISTA iteration; returns the new iterate c. Momentum uses each image's first trial L."""
        op, y, x = self.problem.operator, self.problem.y.double(), self.coeffs
        trial = (BACKTRACKING_DECREASE * self.lipschitz).clamp_min(self.floor)
        t_next = (1 + (1 + 4 * (trial / self.lipschitz) * self.t ** 2).sqrt()) / 2
        beta = (self.t - 1) / t_next
        v = x + beta.to(x.dtype).reshape(-1, 1, 1, 1) * (x - self.previous)
        a_v = self.a_coeffs + beta[:, None] * (self.a_coeffs - self.a_previous)
        gradient = self.basis.analysis(op.A_adjoint((a_v - y).to(x.dtype)))
        new, a_step, ok = self._try(v, gradient, lam, trial, op)
        a_new = a_v + a_step
        todo = (~ok).nonzero().flatten()
        while len(todo):  # the images whose step is not accepted yet: double L, same v
            trial[todo] *= 2
            self.backtracks[todo] += 1
            retried = op if len(todo) == len(x) else op.select(todo)  # a per-image operator copies on select
            c, a_step, ok = self._try(v[todo], gradient[todo], lam[todo], trial[todo], retried)
            new[todo[ok]], a_new[todo[ok]] = c[ok], (a_v[todo] + a_step)[ok]
            todo = todo[~ok]
        self.previous, self.coeffs = x, new
        self.a_previous, self.a_coeffs = self.a_coeffs, a_new
        self.t, self.lipschitz = t_next, trial
        self.iterations += 1
        if self.iterations % REFRESH_EVERY == 0:
            self.refresh()
        return new

    def widen(self, problem: Problem, added: int):
        """Go on with ``problem``, whose coefficients are these followed by ``added`` more, zero now: AΨc and the
        momentum carry over unchanged (``WorkingSetStep``)."""
        self.problem = problem
        self.coeffs = torch.nn.functional.pad(self.coeffs, (0, added))
        self.previous = torch.nn.functional.pad(self.previous, (0, added))

    def _try(self, v, gradient, lam, lipschitz, operator):
        """c = soft(v − ∇f(v)/L, λ/L), AΨ(c − v) and whether f(c) ≤ f(v) + ⟨∇f(v), d⟩ + L/2‖d‖² (d = c − v)."""
        step = lipschitz.to(v.dtype).reshape(-1, 1, 1, 1)
        c = soft_threshold(v - gradient / step, lam / step)
        d = c - v
        a_step = operator.A(self.basis.synthesis(d)).double()
        return c, a_step, (a_step ** 2).sum(1) <= lipschitz * (d.double() ** 2).flatten(1).sum(1)

    measured = None  # AΨc drifts from the carried sums over many iterations: snapshots compute it

    def refresh(self):
        """Recompute the carried AΨc and AΨc₋ from c and c₋ (the carried sums drift by rounding)."""
        op, basis = self.problem.operator, self.basis
        self.a_coeffs = op.A(basis.synthesis(self.coeffs)).double()
        self.a_previous = op.A(basis.synthesis(self.previous)).double()

    def extra(self) -> dict:
        """L per image and how many steps were retried with a doubled L so far (per image)."""
        return {"lipschitz": self.lipschitz.tolist(), "backtracks": self.backtracks.tolist()}


def iterate_snapshot(problem: Problem, basis: Basis, coeffs, lam, method, iteration, seconds, measured=None,
                     final=False, message="", **extra):
    """The snapshot of iterate c; ``measured`` is AΨc when the step rule carries it (float64), else computed."""
    x = basis.synthesis(coeffs)
    if measured is None:
        residual = ((problem.operator.A(x) - problem.y) ** 2).sum(1)
    else:
        residual = ((measured - problem.y.double()) ** 2).sum(1).to(x.dtype)
    objective = 0.5 * residual + lam * coeffs.abs().flatten(1).sum(1)
    return make_snapshot(method, iteration, x, residual, objective, seconds, problem.truth, final=final,
                         message=message, lam=lam.tolist(), **extra)
