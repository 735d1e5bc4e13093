"""Lasso in an orthonormal basis, solved by FISTA (Beck & Teboulle, 2009).

    minimise_c  F(c) = ½‖y − AΨc‖² + λ‖c‖₁,    x̂ = Ψĉ

Three step rules (``LassoSettings.step``); Ψ orthonormal, so ‖AΨ‖ = ‖A‖:

- ``"working-set"`` (the default): ``"backtracking"`` on a working set of coefficients per image, grown where
  the optimality condition fails outside it (``WorkingSetStep``), when A is a dense matrix (Gaussian) whose
  design AΨ can be copied; otherwise plain ``"backtracking"``. The same minimiser; on the bench's faces
  problem 2–3× faster than backtracking on every coefficient (docs/benchmarks.md).
- ``"backtracking"``: FISTA with backtracking that lets L go down as well as up (Scheinberg,
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
The path stops as soon as every image's choice is settled: under the discrepancy principle at the first ratio
that meets it (the same choice as the whole path), under cross-validation once the held-out error has risen
at ``PATH_PATIENCE`` ratios in a row after its lowest (each image's choice is the lowest error up to there,
whatever else is in the batch); the ratios it skips are not run. The chosen ratio is then solved on all
measurements from the path's coefficients, for the run's iterations less the whole path's (300 by default).
"""
from dataclasses import dataclass, replace

import torch

from ..bases import Basis, PixelBasis
from ..operators import LinearOperator
from ..problem import SOLVER_STREAM, Problem, stream
from .snapshot import StopWatch, make_snapshot, wants_snapshot

DEFAULT_ITERATIONS = 300
LIPSCHITZ_MARGIN = 1.05
STEP_RULES = ("working-set", "backtracking", "power")
BACKTRACKING_DECREASE = 0.95  # each iteration first tries L·0.95 (docs/benchmarks.md: 0.9 and 0.98 measured)
REFRESH_EVERY = 100  # backtracking iterations between exact recomputations of the carried AΨc (2 % more A)
WORKING_SET_GROWTH = 100  # coefficients a working set gains at least when it grows
WORKING_SET_CHECK = 10    # FISTA iterations on the working sets between checks of the whole gradient, doubled
WORKING_SET_CHECK_MAX = 80  # after each check that finds nothing to add, up to this
WORKING_SET_LIMIT = 2 ** 26  # entries at most in the working sets' columns (268 MB in float32)
SHARED_BATCH = 10  # images over which one product with a shared matrix costs about one pass over it (CPU, measured)
RATIO_PATH = (0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001)  # λ / λ_max, largest first
FOLDS = 5
PATH_PATIENCE = 2  # cross-validation: a path stops after this many ratios in a row above an image's lowest error
PATH_ITERATIONS = 30  # warm-started FISTA iterations per ratio of the path (fewer when the run is short)
RULE_ITERATIONS = len(RATIO_PATH) * PATH_ITERATIONS + DEFAULT_ITERATIONS  # the default when the rule chooses λ


@dataclass
class LassoSettings:
    iterations: int | None = None   # in all, the λ path's included (default: ``planned_iterations``)
    lam: float | None = None        # absolute λ, the same for every image
    lam_ratio: float | torch.Tensor | None = None  # else λ = lam_ratio · λ_max per image (a (B,) tensor:
                                                   # one ratio per image); neither: ``lambda_path``
    step: str = "working-set"       # or "backtracking", "power" (see the module docstring)

    def __post_init__(self):
        if self.step not in STEP_RULES:
            raise ValueError(f"step must be one of {', '.join(STEP_RULES)}; got {self.step!r}")

    @property
    def from_rule(self) -> bool:
        return self.lam is None and self.lam_ratio is None


def planned_iterations(iterations: int | None, from_rule: bool) -> int:
    """The iterations ``fista`` runs: as asked (default per case), and with the rule at least one per path ratio
    plus one at the chosen λ."""
    if from_rule:
        return max(iterations or RULE_ITERATIONS, len(RATIO_PATH) + 1)
    return iterations or DEFAULT_ITERATIONS


def path_steps(total: int) -> int:
    """FISTA iterations per ratio of the λ path in a run of ``total``: at most half of a short run on the path."""
    return max(1, min(PATH_ITERATIONS, total // (2 * len(RATIO_PATH))))


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


class WorkingSetStep:
    """Backtracking FISTA on a working set W of coefficients per image, grown where the optimality condition
    |∇ⱼf(c)| ≤ λ fails outside it (the working sets of Massias, Gramfort & Salmon 2018, with FISTA inside). An
    iteration costs two products with the image's m × |W| columns of AΨ instead of two passes over A and Ψ.
    Every ``WORKING_SET_CHECK`` iterations (twice as many after a check that adds nothing, up to
    ``WORKING_SET_CHECK_MAX``) one pass ΨᵀAᵀr checks the whole gradient, and each image with violators gains its
    worst ones: at least ``WORKING_SET_GROWTH``, at most as many as it has non-zeros, and only those violating
    by more than the iterate is from optimal on W (so the set grows only as fast as the iterate can tell).
    New coefficients start at 0, so AΨc and the momentum carry over; once the sets stop growing FISTA's
    O(1/k²) bound holds from there, and once nothing outside W violates the minimiser on W is the Lasso's.
    Needs ``operator.design`` (Gaussian A); ``working_set_or_full`` chooses."""

    def __init__(self, problem: Problem, basis: Basis, coeffs: torch.Tensor):
        self.problem, self.basis, self.coeffs = problem, basis, coeffs
        self.design = problem.operator.design(basis)  # AΨ (m, n)
        batch, device = coeffs.shape[0], coeffs.device
        self.size = torch.zeros(batch, dtype=torch.long, device=device)  # |W| per image
        self.index = torch.zeros((batch, 0), dtype=torch.long, device=device)  # W in slots < size, then 0
        self.columns = torch.zeros((batch, self.design.shape[0], 0), device=device)  # AΨ's columns ``index``, then 0
        self.floor = rayleigh_floor(problem, basis, coeffs)  # of all of A, so that a batch matches each image alone
        self.inner: BacktrackingStep | None = None
        self.since_check = torch.zeros(batch, dtype=torch.long, device=device)  # each image on its own schedule
        self.interval = torch.full((batch,), WORKING_SET_CHECK, dtype=torch.long, device=device)

    def step(self, lam: torch.Tensor) -> torch.Tensor:
        """One FISTA iteration on the working sets (after growing them, when due); returns the new iterate c."""
        due = self.since_check >= self.interval
        if self.inner is None or due.any():
            self._grow(lam, due)
        on_set = self.inner.step(lam).flatten(1)
        self.since_check += 1
        flat = torch.zeros_like(self.coeffs.flatten(1)).scatter_add_(1, self.index, on_set)
        self.coeffs = flat.reshape(self.coeffs.shape)
        return self.coeffs

    def _grow(self, lam, due):
        """Check the images that are ``due`` (all, at the start) and grow the sets of those with violators."""
        op, basis, y = self.problem.operator, self.basis, self.problem.y
        flat = self.coeffs.flatten(1)
        if self.inner is None:
            due = torch.ones_like(due)
        self.since_check[due] = 0
        if self.inner:
            self.inner.refresh()
        measured = self.inner.a_coeffs if self.inner else op.A(basis.synthesis(self.coeffs)).double()
        gradient = basis.analysis(op.A_adjoint((measured - y.double()).to(flat.dtype))).flatten(1)
        lam = lam.reshape(-1, 1)
        member = flat != 0  # with a warm start: its support joins at once
        image, slot = (torch.arange(self.index.shape[1], device=flat.device) < self.size[:, None]).nonzero(as_tuple=True)
        member[image, self.index[image, slot]] = True
        excess = gradient.abs() - lam
        # how far the iterate is from optimal on its set (0 ∈ ∇ⱼf + λ∂|cⱼ|): outside coefficients join only when
        # they violate by more, so that the set grows while the iterate is good enough to tell
        inexact = torch.where(flat != 0, (gradient + lam * flat.sign()).abs(), excess.clamp_min(0))
        tolerance = torch.where(member, inexact, 0).amax(1, keepdim=True)
        excess[member] = -torch.inf
        violators = (excess > tolerance).sum(1) * due
        complete = due & (violators == 0)  # for now: check half as often
        self.interval[complete] = (2 * self.interval[complete]).clamp_max(WORKING_SET_CHECK_MAX)
        self.interval[violators > 0] = WORKING_SET_CHECK
        if self.inner is not None and not violators.any():
            return
        grow = torch.minimum(violators, (flat != 0).sum(1).clamp_min(WORKING_SET_GROWTH))
        if self.inner is None:  # never empty: the largest gradient joins even when λ ≥ λ_max
            grow = grow.clamp_min(1)
        worst = excess.topk(int(grow.max()), dim=1).indices
        new = torch.zeros_like(member).scatter(1, worst, torch.arange(worst.shape[1], device=flat.device) < grow[:, None])
        self._add(new if self.inner else new | member)
        width = self.index.shape[1]
        restricted = replace(self.problem, operator=op.on_columns(self.columns))
        if self.inner is None:
            start = flat.gather(1, self.index) * (torch.arange(width, device=flat.device) < self.size[:, None])
            self.inner = BacktrackingStep(restricted, PixelBasis(), start.reshape(len(flat), 1, 1, width), self.floor)
        else:
            self.inner.widen(restricted, width - self.inner.coeffs.shape[-1])

    def _add(self, new: torch.Tensor):
        """Append each image's ``new`` (B, n) members after its current ones (their columns from the design)."""
        count = new.sum(1)
        order = new.to(torch.int8).sort(dim=1, descending=True, stable=True).indices[:, :int(count.max())]
        size = self.size + count
        pad = int(size.max()) - self.index.shape[1]
        if pad > 0:  # the widest set grew: one copy (a smaller set fills its padding in place)
            self.index = torch.nn.functional.pad(self.index, (0, pad))
            self.columns = torch.nn.functional.pad(self.columns, (0, pad))
        image, rank = (torch.arange(order.shape[1], device=new.device) < count[:, None]).nonzero(as_tuple=True)
        slot, members = self.size[image] + rank, order[image, rank]
        self.index[image, slot] = members
        self.columns[image, :, slot] = self.design.T[members]  # contiguous rows of the stored design
        self.size = size

    @property
    def measured(self) -> torch.Tensor:
        """AΨc (B, m) in float64, recomputed at each check (cheap on the set's columns)."""
        return self.inner.a_coeffs

    def extra(self) -> dict:
        """L per image, the retried steps so far and the working set's size, per image."""
        return {**self.inner.extra(), "working_set": self.size.tolist()}


def working_set_or_full(problem: Problem, basis: Basis, coeffs: torch.Tensor):
    """``WorkingSetStep`` where it pays, else ``BacktrackingStep`` on every coefficient. It needs a design, and its
    sets stay below about 2m per image (the Lasso's support is at most m): an iteration reads B·2m·m entries of
    per-image columns, against one pass over the m·n shared ones whose product costs about B/``SHARED_BATCH``
    passes once the batch is large (compute-bound). So: working sets when B·2m ≤ n·max(1, B/``SHARED_BATCH``) and
    their columns fit in ``WORKING_SET_LIMIT`` entries."""
    batch, m, n = coeffs.shape[0], problem.operator.m, coeffs[0].numel()
    pays = batch * 2 * m <= n * max(1.0, batch / SHARED_BATCH) and batch * min(n, 2 * m) * m <= WORKING_SET_LIMIT
    if not pays or problem.operator.design(basis) is None:  # AΨ is built only where it will be used
        return BacktrackingStep(problem, basis, coeffs)
    return WorkingSetStep(problem, basis, coeffs)


STEPS = {"working-set": working_set_or_full, "backtracking": BacktrackingStep, "power": PowerStep}


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


def _snapshot(problem: Problem, basis: Basis, coeffs, lam, method, iteration, seconds, measured=None, final=False,
              message="", **extra):
    """The snapshot of iterate c; ``measured`` is AΨc when the step rule carries it (float64), else computed."""
    x = basis.synthesis(coeffs)
    if measured is None:
        residual = ((problem.operator.A(x) - problem.y) ** 2).sum(1)
    else:
        residual = ((measured - problem.y.double()) ** 2).sum(1).to(x.dtype)
    objective = 0.5 * residual + lam * coeffs.abs().flatten(1).sum(1)
    return make_snapshot(method, iteration, x, residual, objective, seconds, problem.truth, final=final,
                         message=message, lam=lam.tolist(), **extra)


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
                yield _snapshot(problem, basis, coeffs[::members], lam[::members], method, count, seconds, measured,
                                message=f"choosing λ by {rule}: λ = {ratio:g}·λ_max")
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


def fista(problem: Problem, basis: Basis, settings: LassoSettings, every: int | None = None,
          method: str = "lasso"):
    """Yield snapshots of FISTA on ½‖y − AΨc‖² + λ‖c‖₁ every ``every`` iterations and at the end (unless the
    settings give λ, ``lambda_path`` chooses it first, within the iteration count less the ratios it skipped).
    ``extra``: λ, the step's L and, for backtracking, the retried steps, per image (and, when the rule chose,
    the chosen ratio and the number of the path's ratios run)."""
    watch = StopWatch(problem.device)
    watch.start()
    coeffs = torch.zeros((problem.batch, *problem.operator.image_shape), device=problem.device)
    total, done = planned_iterations(settings.iterations, settings.from_rule), 0
    if settings.from_rule:
        steps = path_steps(total)
        ratio, coeffs, stages = yield from lambda_path(problem, basis, settings, steps, watch, every, method)
        lam, done = ratio * lambda_max(problem, basis), steps * stages
        total -= steps * (len(RATIO_PATH) - stages)  # the ratios the path skipped are not run
        chosen = {"lam_ratio": ratio.tolist(), "path_ratios": stages}
    else:
        lam, chosen = choose_lambda(problem, basis, settings), {}
    stepper = STEPS[settings.step](problem, basis, coeffs)
    for iteration in range(done + 1, total + 1):
        coeffs = stepper.step(lam.reshape(-1, 1, 1, 1))
        final = iteration == total
        if final or wants_snapshot(iteration, every):
            seconds = watch.stop()
            yield _snapshot(problem, basis, coeffs, lam, method, iteration, seconds, stepper.measured, final=final,
                            **chosen, **stepper.extra())
            watch.start()
