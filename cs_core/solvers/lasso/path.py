"""λ chosen per image along ``RATIO_PATH``: K-fold cross-validation on exchangeable measurements, else the
discrepancy principle (the package docstring)."""
import torch

from ...bases import Basis
from ...operators import LinearOperator
from ...problem import SOLVER_STREAM, Problem, stream
from ..snapshot import StopWatch, wants_snapshot
from .settings import RATIO_PATH, LassoSettings, lambda_max
from .steps import iterate_snapshot
from .working_set import STEPS

FOLDS = 5
PATH_PATIENCE = 2  # cross-validation: a path stops after this many ratios in a row above an image's lowest error


class _Kept(LinearOperator):
    """A with the measurements where ``keep`` (one 0/1 row per batch member) is 0 zeroed: the folds' operator.
    A single probe image (the backtracking's L₀) is measured unmasked, which only raises L₀ (still safe)."""

    def __init__(self, operator: LinearOperator, keep: torch.Tensor):
        super().__init__(operator.image_shape, operator.m)
        self.operator = operator
        self.register_buffer("keep", keep)
        self._norm_squared = None

    def A(self, x):
        out = self.operator.A(x)
        return out * self.keep if out.shape[0] == self.keep.shape[0] else out

    def A_adjoint(self, y):
        return self.operator.A_adjoint(y * self.keep)

    def select(self, index):
        return _Kept(self.operator.select(index), self.keep[index])

    def design(self, basis):
        return self.operator.design(basis)

    def on_columns(self, columns):
        return _Kept(self.operator.on_columns(columns), self.keep)

    def norm_squared(self, iterations: int = 100, seed: int = 0) -> float:
        """‖A‖² of the whole operator (‖A_kept‖ ≤ ‖A‖: a safe bound), computed once for the path's steps."""
        if self._norm_squared is None:
            self._norm_squared = self.operator.norm_squared(iterations, seed)
        return self._norm_squared


def lambda_path(problem: Problem, basis: Basis, settings: LassoSettings, steps: int, watch: StopWatch,
                every: int | None, method: str):
    """Run ``steps`` FISTA iterations per ratio along ``RATIO_PATH`` (warm-started) and choose a ratio per image:
    by ``FOLDS``-fold cross-validation when the operator's measurements are exchangeable, else by the discrepancy
    principle. Yields snapshots on all measurements; returns (the ratio per image (B,), its coefficients, the
    number of ratios run)."""
    op, y, batch = problem.operator, problem.y, problem.batch
    folds = FOLDS if op.exchangeable else 0
    members = folds + 1  # per image: all measurements, then each fold without its held-out part
    fold = (torch.randperm(op.m, generator=stream(problem.seed, SOLVER_STREAM)) % max(folds, 1)).to(y.device)
    keep = torch.stack([torch.ones(op.m, device=y.device)] +
                       [(fold != k).to(y.dtype) for k in range(folds)]).repeat(batch, 1)
    targets = y.repeat_interleave(members, 0)
    kept = Problem(problem.domain, _Kept(op, keep), targets * keep, problem.noise, problem.seed)
    lam_max = lambda_max(kept, basis)
    coeffs = torch.zeros((batch * members, *op.image_shape), device=y.device)
    discrepancy = problem.noise * op.m ** 0.5
    rule = f"{folds}-fold cross-validation" if folds else \
        f"the discrepancy principle ‖y − Ax̂‖ ≤ σ√m = {discrepancy:.3g}"
    scores, path = [], []
    settled = torch.zeros(batch, dtype=torch.bool, device=y.device)  # each image's choice can no longer change
    for stage, ratio in enumerate(RATIO_PATH):
        if bool(settled.all()):
            break
        lam = ratio * lam_max
        stepper = STEPS[settings.step](kept, basis, coeffs)  # warm start, momentum restarted
        for iteration in range(1, steps + 1):
            coeffs = stepper.step(lam.reshape(-1, 1, 1, 1))
            count = stage * steps + iteration
            if wants_snapshot(count, every):
                seconds = watch.stop()
                measured = None if stepper.measured is None else stepper.measured[::members]
                yield iterate_snapshot(problem, basis, coeffs[::members], lam[::members], method, count, seconds,
                                       measured, message=f"choosing λ by {rule}: λ = {ratio:g}·λ_max")
                watch.start()
        miss = op.A(basis.synthesis(coeffs).clamp(0, 1)) - targets
        if folds:  # the held-out error, summed over the folds; an image already settled keeps its choice
            error = ((miss * (1 - keep)) ** 2).sum(1).reshape(batch, members).sum(1)
            scores.append(torch.where(settled, float("inf"), error))
            lowest = torch.stack(scores).argmin(0)
            settled |= stage - lowest >= PATH_PATIENCE
        else:      # the first (largest) ratio whose residual is down to the noise level, else the last
            above = (miss ** 2).sum(1) ** 0.5 > discrepancy
            scores.append(torch.where(above, 2 * len(RATIO_PATH) - stage, stage).to(y.dtype))
            settled |= ~above
        path.append(coeffs[::members])
    best = torch.stack(scores).argmin(0)
    start = torch.stack([path[stage][image] for image, stage in enumerate(best.tolist())])
    return torch.tensor(RATIO_PATH, device=y.device)[best], start, len(path)
