"""Lasso-DCT and Lasso-wavelet on the bench's faces problem: FISTA against scikit-learn's coordinate descent
(the original's solver) on the dense design X = AΨ, at equal objective.

sklearn minimises 1/(2m)‖y − Xw‖² + α‖w‖₁, so α = λ/m is our ½‖y − AΨc‖² + λ‖c‖₁ divided by m. F* is the
best objective either solver reaches when run tightly; each solver is then timed to F ≤ F*(1 + ``LASSO_MATCH``):
FISTA for the smallest iteration count that gets there, sklearn for the loosest ``tol`` of the settings' ladder
that gets there. FISTA with its three step rules side by side: working sets (the solver's default), backtracking
on every coefficient, and the constant power-iteration step. Then a batch of faces (one A): FISTA on the whole
batch against sklearn image by image, per-image times.
"""
import statistics
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ...bases import BASES
from ...problem import Problem
from ...solvers.lasso import STEP_RULES, LassoSettings, choose_lambda, fista
from .common import FACES_M, FACES_NOISE, BenchSettings, faces_problem, faces_truth, median, ratio

LASSO_MATCH = 1e-3         # "equal objective": F ≤ F*(1 + 1e-3)
BENCH_LAM_RATIO = 0.01     # λ = 0.01·λ_max, fixed: one objective for every solver


@dataclass
class SklearnTight:
    tol: float
    objective: float
    n_iter: int
    seconds: float


@dataclass
class SklearnRun:
    tol: float | None
    n_iter: int | None
    seconds: float | None
    objective: float | None
    samples_s: list


@dataclass
class FistaRun:
    step: str
    iterations: int | None
    retried_steps: int | None
    seconds: float | None
    objective: float | None
    samples_s: list
    speedup_spread: dict | None  # sklearn's time ÷ FISTA's within each repeat: {"min", "median", "max"}


@dataclass
class BasisBench:
    lam: float
    alpha: float
    F_star: float
    target: float
    F_star_from: str
    sklearn_tight: SklearnTight
    sklearn: SklearnRun
    fista_working_set: FistaRun
    fista: FistaRun        # backtracking on every coefficient
    fista_power: FistaRun
    speedup_working_set: float | None = field(init=False)
    speedup: float | None = field(init=False)
    speedup_power: float | None = field(init=False)

    def __post_init__(self):
        self.speedup_working_set = ratio(self.sklearn.seconds, self.fista_working_set.seconds)
        self.speedup = ratio(self.sklearn.seconds, self.fista.seconds)
        self.speedup_power = ratio(self.sklearn.seconds, self.fista_power.seconds)


@dataclass
class BatchFistaRun:
    step: str
    iterations: int | None
    retried_steps: list | None
    seconds: float | None
    per_image_s: float | None


@dataclass
class BatchBench:
    basis: str
    images: int
    sklearn: dict  # per_image_s (mean over images, None if one never reached its target), samples_s
    fista_working_set: BatchFistaRun
    fista: BatchFistaRun
    fista_power: BatchFistaRun
    speedup_per_image_working_set: float | None = field(init=False)
    speedup_per_image: float | None = field(init=False)
    speedup_per_image_power: float | None = field(init=False)

    def __post_init__(self):
        sklearn = self.sklearn["per_image_s"]
        self.speedup_per_image_working_set = ratio(sklearn, self.fista_working_set.per_image_s)
        self.speedup_per_image = ratio(sklearn, self.fista.per_image_s)
        self.speedup_per_image_power = ratio(sklearn, self.fista_power.per_image_s)


@dataclass
class LassoBench:
    setting: dict
    dct: BasisBench
    wavelet: BasisBench
    batch: BatchBench


def design_matrix(problem: Problem, basis) -> torch.Tensor:
    """sklearn's X = AΨ (m × n, float64, CPU): the operator's design (row i is Ψᵀaᵢ), which FISTA's working sets
    also use (and build inside their own timed runs)."""
    return problem.operator.design(basis).double().cpu()


def lasso_objective(X, y, w, lam: float) -> float:
    """½‖y − Xw‖² + λ‖w‖₁ in float64 (numpy arrays)."""
    return float(0.5 * np.sum((y - X @ w) ** 2) + lam * np.sum(np.abs(w)))


def sklearn_fit(X, y, lam: float, tol: float, max_iter: int):
    """sklearn's Lasso with α = λ/m and no intercept; (seconds, objective ½‖y − Xw‖² + λ‖w‖₁, n_iter)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso
    model = Lasso(alpha=lam / X.shape[0], fit_intercept=False, tol=tol, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, lasso_objective(X, y, model.coef_, lam), int(model.n_iter_)


def fista_time(problem: Problem, basis, basis_name: str, iterations: int, step: str) -> tuple[float, float]:
    """Seconds (solver's own clock, from the start: λ, the first L and the working sets' AΨ included) and final
    objective of ``iterations``."""
    final = None
    problem.operator.designs.clear()  # built afresh in every timed run, as for a new problem
    settings = LassoSettings(iterations, lam_ratio=BENCH_LAM_RATIO, step=step)
    for final in fista(problem, basis, settings, None, method=f"lasso-{basis_name}"):
        pass
    return final.seconds, final.objective[0]


def fista_trace(problem: Problem, basis, step: str, settings: BenchSettings) -> list:
    """(iteration, objective per image, retried steps per image) every ``fista_every`` iterations up to ``fista_cap``."""
    return [(s.iteration, s.objective, s.extra.get("backtracks"))
            for s in fista(problem, basis, LassoSettings(settings.fista_cap, lam_ratio=BENCH_LAM_RATIO, step=step),
                           every=settings.fista_every)]


def first_hit(trace, targets):
    """The first (iteration, retried steps) of ``trace`` where every image is at or below its target."""
    return next(((it, tries) for it, f, tries in trace if all(v <= t for v, t in zip(f, targets))), (None, None))


def bench_lasso_basis(problem: Problem, basis_name: str, repeats: int, settings: BenchSettings) -> BasisBench:
    basis = BASES[basis_name]
    untimed = replace(problem, truth=None)  # no metrics in the snapshots: FISTA's trace stays cheap
    lam = float(choose_lambda(problem, basis, LassoSettings(lam_ratio=BENCH_LAM_RATIO))[0])
    X = design_matrix(problem, basis).numpy()
    y = problem.y[0].double().cpu().numpy()

    # F*: the best of a tight sklearn fit and long FISTA runs with every step rule.
    tight_s, tight_f, tight_iter = sklearn_fit(X, y, lam, settings.sklearn_tight_tol, settings.sklearn_max_iter)
    traces = {step: fista_trace(untimed, basis, step, settings) for step in STEP_RULES}
    fista_best = min(f[0] for trace in traces.values() for _, f, _ in trace)
    f_star = min(tight_f, fista_best)
    target = f_star * (1 + LASSO_MATCH)

    sk_tol = sk_iter = None
    for tol in settings.sklearn_tols:
        seconds, objective, n_iter = sklearn_fit(X, y, lam, tol, settings.sklearn_max_iter)
        if objective <= target:
            sk_tol, sk_iter = tol, n_iter
            break
    # Each repeat times sklearn, then FISTA with each step rule, so that every repeat's ratios share one load.
    hits = {step: first_hit(traces[step], [target]) for step in STEP_RULES}
    sk_runs, fista_runs = [], {step: [] for step in STEP_RULES}
    for _ in range(repeats):
        if sk_tol is not None:
            sk_runs.append(sklearn_fit(X, y, lam, sk_tol, settings.sklearn_max_iter)[:2])
        for step, (iterations, _) in hits.items():
            if iterations is not None:
                fista_runs[step].append(fista_time(untimed, basis, basis_name, iterations, step))

    def fista_run(step: str) -> FistaRun:
        (iterations, tries), runs = hits[step], fista_runs[step]
        pairs = [sk[0] / f[0] for sk, f in zip(sk_runs, runs)]
        spread = {"min": min(pairs), "median": statistics.median(pairs), "max": max(pairs)} if pairs else None
        return FistaRun(step, iterations, tries and tries[0], median([r[0] for r in runs]),
                        median([r[1] for r in runs]), [r[0] for r in runs], spread)

    return BasisBench(
        lam=lam, alpha=lam / X.shape[0], F_star=f_star, target=target,
        F_star_from="sklearn" if tight_f <= fista_best else "fista",
        sklearn_tight=SklearnTight(settings.sklearn_tight_tol, tight_f, tight_iter, tight_s),
        sklearn=SklearnRun(sk_tol, sk_iter, median([r[0] for r in sk_runs]), median([r[1] for r in sk_runs]),
                           [r[0] for r in sk_runs]),
        fista_working_set=fista_run("working-set"), fista=fista_run("backtracking"), fista_power=fista_run("power"))


def bench_lasso_batch(device: torch.device, repeats: int, settings: BenchSettings, basis_name: str = "dct"
                      ) -> BatchBench:
    """FISTA on ``settings.batch_images`` faces at once (one A), with every step rule, against sklearn image by
    image, each image to F ≤ F*ᵢ(1 + ``LASSO_MATCH``), F*ᵢ the best of long FISTA runs (``fista_cap`` iterations;
    the single-image rows show it within 1e-4 of sklearn's tight fits). Per-image times."""
    basis = BASES[basis_name]
    images = settings.batch_images
    problem = faces_problem(device, faces_truth(device, images))
    untimed = replace(problem, truth=None)
    lams = choose_lambda(problem, basis, LassoSettings(lam_ratio=BENCH_LAM_RATIO)).tolist()
    X = design_matrix(problem, basis).numpy()
    ys = problem.y.double().cpu().numpy()
    traces = {step: fista_trace(untimed, basis, step, settings) for step in STEP_RULES}
    targets = [min(f[i] for trace in traces.values() for _, f, _ in trace) * (1 + LASSO_MATCH) for i in range(images)]
    sk_s = []
    for i in range(images):
        reached = next((tol for tol in settings.sklearn_tols
                        if sklearn_fit(X, ys[i], lams[i], tol, settings.sklearn_max_iter)[1] <= targets[i]), None)
        if reached is not None:
            sk_s.append(median([sklearn_fit(X, ys[i], lams[i], reached, settings.sklearn_max_iter)[0]
                                for _ in range(repeats)]))

    def fista_run(step: str) -> BatchFistaRun:
        iterations, tries = first_hit(traces[step], targets)
        seconds = median([fista_time(untimed, basis, basis_name, iterations, step)[0] for _ in range(repeats)]) \
            if iterations is not None else None
        return BatchFistaRun(step, iterations, tries, seconds, seconds / images if seconds is not None else None)

    return BatchBench(basis_name, images,
                      {"per_image_s": statistics.fmean(sk_s) if len(sk_s) == images else None, "samples_s": sk_s},
                      fista_working_set=fista_run("working-set"), fista=fista_run("backtracking"),
                      fista_power=fista_run("power"))


def bench_lasso(problem: Problem, repeats: int, settings: BenchSettings) -> LassoBench:
    return LassoBench(
        setting={"domain": "faces", "operator": "gaussian", "m": FACES_M, "noise": FACES_NOISE,
                 "lambda_rule": "core default: ratio · ‖ΨᵀAᵀy‖∞", "match": LASSO_MATCH},
        dct=bench_lasso_basis(problem, "dct", repeats, settings),
        wavelet=bench_lasso_basis(problem, "wavelet", repeats, settings),
        batch=bench_lasso_batch(problem.device, repeats, settings))
