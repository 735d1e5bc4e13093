"""Lasso in an orthonormal basis, solved by FISTA (Beck & Teboulle, 2009).

    minimise_c  F(c) = ½‖y − AΨc‖² + λ‖c‖₁,    x̂ = Ψĉ

Step 1/L with L = 1.05·‖A‖² (Ψ orthonormal, so ‖AΨ‖ = ‖A‖): ‖A‖² from a power iteration, which
approaches from below (within 2 % after 100 steps on Gaussian A), so a 5 % margin keeps it safe.

λ is given (``lam``, absolute, or ``lam_ratio`` · λ_max per image, λ_max = ‖ΨᵀAᵀy‖∞ the smallest λ whose
solution is c = 0), or else chosen per image along ``RATIO_PATH`` from large λ to small (warm-started):
- measurements that each see the whole image (``operator.exchangeable``: Gaussian A): K-fold
  cross-validation on the measurements (Boufounos, Duarte & Baraniuk 2007; Ward 2009): each fold's Lasso is
  fitted without its held-out measurements and scored by ‖y_held − A_held clamp(Ψĉ)‖², and the ratio with the
  lowest held-out error summed over the folds wins. The held-out error estimates ‖x̂ − x*‖² plus the noise,
  so the rule needs neither σ nor tuning, and what the basis cannot represent (a real photo is not sparse)
  counts against small λ just as noise does;
- local measurements (pixels, low-resolution pixels, k-space lines, a blurred image), where a held-out
  measurement says how well its neighbours interpolate it rather than how good x̂ is: the discrepancy
  principle, the largest ratio with ‖y − AΨĉ‖ ≤ σ√m (noiseless: the smallest ratio of the path).
The chosen ratio is then solved on all measurements from the path's coefficients.
"""
from dataclasses import dataclass

import torch

from ..bases import Basis
from ..problem import SOLVER_STREAM, Problem, stream
from .snapshot import StopWatch, make_snapshot, wants_snapshot

DEFAULT_ITERATIONS = 300
LIPSCHITZ_MARGIN = 1.05
RATIO_PATH = (0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001)  # λ / λ_max, largest first
FOLDS = 5
PATH_ITERATIONS = 30  # warm-started FISTA iterations per ratio of the path (fewer when the run is short)
RULE_ITERATIONS = len(RATIO_PATH) * PATH_ITERATIONS + DEFAULT_ITERATIONS  # the default when the rule chooses λ


@dataclass
class LassoSettings:
    iterations: int | None = None   # in all, the λ path's included (default: ``default_iterations``)
    lam: float | None = None        # absolute λ, the same for every image
    lam_ratio: float | torch.Tensor | None = None  # else λ = lam_ratio · λ_max per image (a (B,) tensor:
                                                   # one ratio per image); neither: ``lambda_path``

    @property
    def from_rule(self) -> bool:
        return self.lam is None and self.lam_ratio is None


def planned_iterations(iterations: int | None, from_rule: bool) -> int:
    """The iterations ``fista`` runs: as asked (default per case), and with the rule at least one per path ratio
    plus one at the chosen λ."""
    if from_rule:
        return max(iterations or RULE_ITERATIONS, len(RATIO_PATH) + 1)
    return iterations or DEFAULT_ITERATIONS


def lambda_max(problem: Problem, basis: Basis) -> torch.Tensor:
    """‖ΨᵀAᵀy‖∞ per image, shape (B,)."""
    return basis.analysis(problem.operator.A_adjoint(problem.y)).abs().flatten(1).max(1).values


def choose_lambda(problem: Problem, basis: Basis, settings: LassoSettings) -> torch.Tensor:
    """λ per image, shape (B,), when the settings give it: the absolute ``lam``, else ``lam_ratio`` · λ_max."""
    if settings.lam is not None:
        return torch.full((problem.batch,), float(settings.lam), device=problem.device)
    return settings.lam_ratio * lambda_max(problem, basis)


def soft_threshold(c: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    return torch.sign(c) * (c.abs() - threshold).clamp_min(0)


def fista_steps(forward, adjoint, basis: Basis, y: torch.Tensor, lam: torch.Tensor, coeffs: torch.Tensor,
                lipschitz: float, iterations: int):
    """Yield (iteration, c) of FISTA on ½‖y − forward(Ψc)‖² + λ‖c‖₁ from ``coeffs`` (λ shaped (B, 1, 1, 1))."""
    momentum, t = coeffs, 1.0
    for iteration in range(1, iterations + 1):
        gradient = basis.analysis(adjoint(forward(basis.synthesis(momentum)) - y))
        new = soft_threshold(momentum - gradient / lipschitz, lam / lipschitz)
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        momentum = new + ((t - 1) / t_next) * (new - coeffs)
        coeffs, t = new, t_next
        yield iteration, coeffs


def _snapshot(problem: Problem, basis: Basis, coeffs, lam, method, iteration, seconds, final=False, message="",
              **extra):
    x = basis.synthesis(coeffs)
    residual = ((problem.operator.A(x) - problem.y) ** 2).sum(1)
    objective = 0.5 * residual + lam * coeffs.abs().flatten(1).sum(1)
    return make_snapshot(method, iteration, x, residual, objective, seconds, problem.truth, final=final,
                         message=message, lam=lam.tolist(), **extra)


def lambda_path(problem: Problem, basis: Basis, lipschitz: float, steps: int, watch: StopWatch, every: int | None,
                method: str):
    """Run ``steps`` FISTA iterations per ratio along ``RATIO_PATH`` (warm-started) and choose a ratio per image: by ``FOLDS``-fold
    cross-validation when the operator's measurements are exchangeable, else by the discrepancy principle.
    Yields snapshots on all measurements; returns (the ratio per image (B,), its coefficients)."""
    op, y, batch = problem.operator, problem.y, problem.batch
    folds = FOLDS if op.exchangeable else 0
    members = folds + 1  # per image: all measurements, then each fold without its held-out part
    fold = (torch.randperm(op.m, generator=stream(problem.seed, SOLVER_STREAM)) % max(folds, 1)).to(y.device)
    keep = torch.stack([torch.ones(op.m, device=y.device)] +
                       [(fold != k).to(y.dtype) for k in range(folds)]).repeat(batch, 1)
    targets = y.repeat_interleave(members, 0)
    forward = lambda x: op.A(x) * keep  # noqa: E731
    adjoint = lambda r: op.A_adjoint(r * keep)  # noqa: E731
    lam_max = basis.analysis(adjoint(targets * keep)).abs().flatten(1).max(1).values
    coeffs = torch.zeros((batch * members, *op.image_shape), device=y.device)
    discrepancy = problem.noise * op.m ** 0.5
    scores, path = [], []
    rule = f"{folds}-fold cross-validation" if folds else f"the discrepancy principle ‖y − Ax̂‖ ≤ σ√m = {discrepancy:.3g}"
    for stage, ratio in enumerate(RATIO_PATH):
        lam = ratio * lam_max
        for iteration, coeffs in fista_steps(forward, adjoint, basis, targets * keep, lam.reshape(-1, 1, 1, 1),
                                             coeffs, lipschitz, steps):
            count = stage * steps + iteration
            if wants_snapshot(count, every):
                seconds = watch.stop()
                yield _snapshot(problem, basis, coeffs[::members], lam[::members], method, count, seconds,
                                message=f"choosing λ by {rule}: λ = {ratio:g}·λ_max")
                watch.start()
        miss = op.A(basis.synthesis(coeffs).clamp(0, 1)) - targets
        if folds:  # the held-out error, summed over the folds
            scores.append(((miss * (1 - keep)) ** 2).sum(1).reshape(batch, members).sum(1))
        else:      # the first (largest) ratio whose residual is down to the noise level, else the last
            above = (miss ** 2).sum(1) ** 0.5 > discrepancy
            scores.append(torch.where(above, 2 * len(RATIO_PATH) - stage, stage).to(y.dtype))
        path.append(coeffs[::members])
    best = torch.stack(scores).argmin(0)
    start = torch.stack([path[stage][image] for image, stage in enumerate(best.tolist())])
    return torch.tensor(RATIO_PATH, device=y.device)[best], start


def fista(problem: Problem, basis: Basis, settings: LassoSettings, every: int | None = None,
          method: str = "lasso"):
    """Yield snapshots of FISTA on ½‖y − AΨc‖² + λ‖c‖₁ every ``every`` iterations and at the end
    (unless the settings give λ, ``lambda_path`` chooses it first, within the same iteration count)."""
    op = problem.operator
    watch = StopWatch(problem.device)
    watch.start()
    lipschitz = max(LIPSCHITZ_MARGIN * op.norm_squared(), 1e-12)
    coeffs = torch.zeros((problem.batch, *op.image_shape), device=problem.device)
    total, done = planned_iterations(settings.iterations, settings.from_rule), 0
    if settings.from_rule:  # at most half of a short run on the path
        steps = max(1, min(PATH_ITERATIONS, total // (2 * len(RATIO_PATH))))
        ratio, coeffs = yield from lambda_path(problem, basis, lipschitz, steps, watch, every, method)
        lam, done = ratio * lambda_max(problem, basis), steps * len(RATIO_PATH)
        chosen = {"lam_ratio": ratio.tolist()}
    else:
        lam, chosen = choose_lambda(problem, basis, settings), {}
    iterations = total - done
    for iteration, coeffs in fista_steps(op.A, op.A_adjoint, basis, problem.y, lam.reshape(-1, 1, 1, 1), coeffs,
                                         lipschitz, iterations):
        final = iteration == iterations
        if final or wants_snapshot(done + iteration, every):
            seconds = watch.stop()
            yield _snapshot(problem, basis, coeffs, lam, method, done + iteration, seconds, final=final, **chosen)
            watch.start()
