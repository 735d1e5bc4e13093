"""Speed, side by side: our solvers against the straightforward ones of the original code, on one problem.

``run_bench(device, repeats, quick)`` measures, on the same problems:

1. **CSGM-DCGAN**, faces, Gaussian m = 500, σ = 0.01, truth G(z) for ``FACE_SEED`` (in the range of G):
   :func:`reference_csgm`, the plain PyTorch port of the original (Adam over z, one restart at a time,
   the paper's 2 × 500 steps at lr 0.1), against our ``csgm`` with the same settings and starts,
   restarts batched ("before"), and ``csgm`` with ``FAST_DCGAN`` (batched L-BFGS from more starts,
   pruned, stopped early: "after"), same loss ‖y − A G(z)‖² + λ‖z‖². Reported: total times, and the
   time each needs to reach the reference's final measurement loss (and MSE), within ``CSGM_MATCH``.
2. **Lasso-DCT and Lasso-wavelet** on the same problem, FISTA against scikit-learn's coordinate
   descent (the original's solver) on the dense design X = AΨ. sklearn minimises
   1/(2m)‖y − Xw‖² + α‖w‖₁, so α = λ/m is our ½‖y − AΨc‖² + λ‖c‖₁ divided by m. F* is the best
   objective either solver reaches when run tightly; each solver is then timed to
   F ≤ F*(1 + ``LASSO_MATCH``): FISTA for the smallest iteration count that gets there, sklearn for
   the loosest ``tol`` of ``SKLEARN_TOLS`` that gets there. FISTA with both step rules side by side:
   backtracking (the default, "after") and the power-iteration step ("before"). Then a batch of
   ``BATCH_IMAGES`` faces (one A): FISTA on the whole batch against sklearn image by image, per-image times.
3. **Time to the first streamed snapshot** of ``run_methods`` (every 5 iterations) on the demo's
   default settings: MNIST digit, m = 100, lasso-pixel + csgm-vae; faces, m = 500, lasso-dct + csgm-dcgan.
4. **Peak memory**: the process's peak RSS after each section (CPU), or
   ``torch.cuda.max_memory_allocated`` per section (CUDA).

Times are medians over ``repeats`` runs. ``python -m cs_core bench [--device auto|cpu|cuda] [--json]
[--repeats N] [--quick] [--threads N]`` prints the table (or one JSON object).
"""
from __future__ import annotations

import math
import os
import platform
import resource
import statistics
import time
import warnings
from dataclasses import asdict, dataclass, replace

import torch

from .bases import BASES
from .devices import describe_device
from .domains import get_domain
from .problem import SOLVER_STREAM, Problem, make_problem, stream
from .session import run_methods
from .solvers import Options
from .solvers.csgm import CSGMSettings, csgm
from .solvers.lasso import STEP_RULES, LassoSettings, choose_lambda, fista

FACE_SEED = 2000           # sampling seeds ≥ 2000 are never used elsewhere: an in-range face G(z)
PROBLEM_SEED = 0           # seed of A, the noise and the CSGM starts
FACES_M, FACES_NOISE = 500, 0.01  # the paper's celebA noise; m = 500 as in the issue
CSGM_MATCH = 1e-3          # "reached the reference's loss": within 0.1 %
LASSO_MATCH = 1e-3         # "equal objective": F ≤ F*(1 + 1e-3)
SKLEARN_TOLS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6, 1e-7, 1e-8)
SNAPSHOT_EVERY = 5
PAPER_STEPS, PAPER_LR, PAPER_RESTARTS = 500, 0.1, 2  # CSGM "before": the paper's Adam (Prior.paper for DCGAN)
# CSGM "after": batched L-BFGS from 4 starts, each image keeping its best after 60 steps, at most 200 steps,
# stopping early on a stall or at the noise level (docs/benchmarks.md: every idea tried); the DCGAN default
# (at λ = 0.003; here at the paper's λ, as the reference)
FAST_DCGAN = dict(steps=200, lr=1.0, restarts=4, optimiser="lbfgs", prune_after=60, patience=25)
BENCH_LAM_RATIO = 0.01     # λ = 0.01·λ_max, fixed (Lasso's default before its per-image rule): one problem for both
BATCH_IMAGES = 16          # the batched FISTA row: faces G(z) for FACE_SEED + 0..15, one A
# FISTA's step rules side by side: the power-iteration step (the first record), backtracking on every
# coefficient (session 4) and on working sets (the default since)
STEP_KEYS = {"working-set": "fista_working_set", "backtracking": "fista", "power": "fista_power"}


@dataclass(frozen=True)
class BenchSettings:
    csgm_steps: int | None = None   # None: the prior's default (500)
    fista_cap: int = 2000           # FISTA iterations at most, when looking for F*
    fista_every: int = 1            # objective recorded every this many iterations in that search
    sklearn_tight_tol: float = 1e-8
    sklearn_max_iter: int = 100_000
    sklearn_tols: tuple[float, ...] = SKLEARN_TOLS  # the ladder of tolerances tried, loosest first
    batch_images: int = BATCH_IMAGES  # images in the batched FISTA row


FULL = BenchSettings()
QUICK = BenchSettings(csgm_steps=5, fista_cap=200, fista_every=10, sklearn_tight_tol=1e-4, sklearn_max_iter=20_000,
                      sklearn_tols=(1e-2, 1e-3, 1e-4), batch_images=2)


# ---------------------------------------------------------------------------------------------- helpers

def _sync(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _ratio(slow, fast):
    return slow / fast if slow is not None and fast else None


def _peak_memory_mib(device: torch.device) -> dict:
    """Process peak RSS so far (Linux reports KiB) and, on CUDA, the peak allocated since the last reset."""
    out = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        out["cuda_peak_allocated_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def _reset_cuda_peak(device: torch.device):
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: torch.device) -> dict:
    import numpy
    import sklearn
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "torch_threads": torch.get_num_threads(),
        "device": describe_device(device),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "sklearn": sklearn.__version__,
        "python": platform.python_version(),
        "load_average_start": [round(v, 2) for v in os.getloadavg()],
    }


def faces_problem(device: torch.device, truth: torch.Tensor | None = None) -> Problem:
    """Faces, Gaussian m = 500, σ = 0.01, truth G(z) for ``FACE_SEED`` unless given."""
    if truth is None:
        from .priors.sampling import sample
        truth = sample("dcgan", FACE_SEED, device)
    return make_problem(truth, get_domain("faces"), "gaussian", {"m": FACES_M}, FACES_NOISE, PROBLEM_SEED, device)


# ---------------------------------------------------------------------------------------------- 1. CSGM

def initial_latents(problem: Problem, restarts: int, latent_dim: int) -> torch.Tensor:
    """The starts ``csgm`` draws: (B, restarts, latent_dim) from the problem's solver stream."""
    return torch.randn((problem.batch, restarts, latent_dim), generator=stream(problem.seed, SOLVER_STREAM))


def reference_csgm(problem: Problem, generator: torch.nn.Module, z0: torch.Tensor, settings: CSGMSettings) -> dict:
    """The original's loop, ported plainly: for each restart in turn, Adam on
    ‖y − A G(z)‖² + λ‖z‖² from its own start; keep the restart whose final z has the lowest
    measurement loss. ``z0`` is (restarts, latent_dim) for the problem's single image.
    Returns the final measurement loss, MSE and seconds (CUDA synchronised)."""
    y, op, device = problem.y, problem.operator, problem.device
    _sync(device)
    start = time.perf_counter()
    best_loss, best_x = math.inf, None
    for r in range(z0.shape[0]):
        z = z0[r:r + 1].clone().to(device).requires_grad_(True)
        optimiser = torch.optim.Adam([z], lr=settings.lr)
        for _ in range(settings.steps):
            optimiser.zero_grad()
            measurement = ((op.A(generator(z)) - y) ** 2).sum()
            loss = measurement + settings.lam * (z ** 2).sum()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            x = generator(z)
            final = ((op.A(x) - y) ** 2).sum().item()
        if final < best_loss:
            best_loss, best_x = final, x
    _sync(device)
    seconds = time.perf_counter() - start
    mse = ((best_x.clamp(0, 1) - problem.truth) ** 2).mean().item()
    return {"seconds": seconds, "measurement_loss": best_loss, "mse": mse}


def _ours_csgm(problem: Problem, generator: torch.nn.Module, settings: CSGMSettings, latent_dim: int) -> list:
    """Our solver with a snapshot every step: (seconds, best measurement loss, MSE) per step."""
    return [(s.seconds, s.measurement_loss[0], s.mse[0])
            for s in csgm(problem, generator, latent_dim, settings, every=1, method="csgm-dcgan")]


def _first_time(trace, index: int, target: float):
    return next((row[0] for row in trace if row[index] <= target), None)


def _csgm_row(trace, ref) -> dict:
    return {"seconds": trace[-1][0], "steps": len(trace),
            "to_reference_loss_s": _first_time(trace, 1, ref["measurement_loss"] * (1 + CSGM_MATCH)),
            "to_reference_mse_s": _first_time(trace, 2, ref["mse"] * (1 + CSGM_MATCH)),
            "measurement_loss": trace[-1][1], "mse": trace[-1][2]}


def bench_csgm(problem: Problem, repeats: int, settings: BenchSettings) -> dict:
    """The reference loop and ``csgm`` with the paper's settings (Adam, 2 × 500 steps: "before"), and
    ``csgm`` with ``FAST_DCGAN`` (L-BFGS, pruning, early stopping: "after"), side by side."""
    from .priors import PRIORS
    prior = PRIORS["dcgan"]
    d = prior.paper  # both rows at the paper's λ, so that they minimise one objective (the default's λ is 0.003)
    cs = CSGMSettings(steps=settings.csgm_steps or PAPER_STEPS, lr=PAPER_LR, restarts=PAPER_RESTARTS, lam=d.lam)
    after = CSGMSettings(**{**FAST_DCGAN, "steps": settings.csgm_steps or FAST_DCGAN["steps"]}, lam=d.lam)
    generator = prior.load(problem.device)
    z0 = initial_latents(problem, cs.restarts, prior.latent_dim)[0]
    runs = []
    for _ in range(repeats):
        ref = reference_csgm(problem, generator, z0, cs)
        runs.append({"reference": ref,
                     "ours": _csgm_row(_ours_csgm(problem, generator, cs, prior.latent_dim), ref),
                     "after": _csgm_row(_ours_csgm(problem, generator, after, prior.latent_dim), ref)})
    med = {side: {key: _median([r[side][key] for r in runs]) for key in runs[0][side]} for side in runs[0]}
    return {
        "setting": {"domain": "faces", "operator": "gaussian", "m": FACES_M, "noise": FACES_NOISE,
                    "truth": f"G(z), sampling seed {FACE_SEED}", "steps": cs.steps, "restarts": cs.restarts,
                    "lr": cs.lr, "lam": cs.lam, "match": CSGM_MATCH,
                    "after": {"steps": after.steps, "restarts": after.restarts, "lr": after.lr,
                              "optimiser": after.optimiser, "prune_after": after.prune_after,
                              "patience": after.patience}},
        "reference": med["reference"],
        "ours": med["ours"],
        "after": med["after"],
        "speedup_total": _ratio(med["reference"]["seconds"], med["ours"]["seconds"]),
        "speedup_to_reference_loss": _ratio(med["reference"]["seconds"], med["ours"]["to_reference_loss_s"]),
        "after_speedup_total": _ratio(med["reference"]["seconds"], med["after"]["seconds"]),
        "after_speedup_to_reference_loss": _ratio(med["reference"]["seconds"], med["after"]["to_reference_loss_s"]),
        "samples": {"reference_s": [r["reference"]["seconds"] for r in runs],
                    "ours_s": [r["ours"]["seconds"] for r in runs], "after_s": [r["after"]["seconds"] for r in runs]},
    }


# ---------------------------------------------------------------------------------------------- 2. Lasso

def design_matrix(problem: Problem, basis) -> torch.Tensor:
    """sklearn's X = AΨ (m × n, float64, CPU): the operator's design (row i is Ψᵀaᵢ), which FISTA's working sets
    also use (and build inside their own timed runs)."""
    return problem.operator.design(basis).double().cpu()


def lasso_objective(X, y, w, lam: float) -> float:
    """½‖y − Xw‖² + λ‖w‖₁ in float64 (numpy arrays)."""
    import numpy as np
    return float(0.5 * np.sum((y - X @ w) ** 2) + lam * np.sum(np.abs(w)))


def _sklearn_fit(X, y, lam: float, tol: float, max_iter: int):
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


def _fista_time(problem: Problem, basis, basis_name: str, iterations: int, step: str) -> tuple[float, float]:
    """Seconds (solver's own clock, from the start: λ, the first L and the working sets' AΨ included) and final
    objective of ``iterations``."""
    final = None
    problem.operator.designs.clear()  # built afresh in every timed run, as for a new problem
    settings = LassoSettings(iterations, lam_ratio=BENCH_LAM_RATIO, step=step)
    for final in fista(problem, basis, settings, None, method=f"lasso-{basis_name}"):
        pass
    return final.seconds, final.objective[0]


def _fista_trace(problem: Problem, basis, step: str, settings: BenchSettings) -> list:
    """(iteration, objective per image, retried steps per image) every ``fista_every`` iterations up to ``fista_cap``."""
    return [(s.iteration, s.objective, s.extra.get("backtracks"))
            for s in fista(problem, basis, LassoSettings(settings.fista_cap, lam_ratio=BENCH_LAM_RATIO, step=step),
                           every=settings.fista_every)]


def _first_hit(trace, targets):
    """The first (iteration, retried steps) of ``trace`` where every image is at or below its target."""
    return next(((it, tries) for it, f, tries in trace if all(v <= t for v, t in zip(f, targets))), (None, None))


def bench_lasso_basis(problem: Problem, basis_name: str, repeats: int, settings: BenchSettings) -> dict:
    basis = BASES[basis_name]
    untimed = replace(problem, truth=None)  # no metrics in the snapshots: FISTA's trace stays cheap
    lam = float(choose_lambda(problem, basis, LassoSettings(lam_ratio=BENCH_LAM_RATIO))[0])
    X = design_matrix(problem, basis).numpy()
    y = problem.y[0].double().cpu().numpy()

    # F*: the best of a tight sklearn fit and long FISTA runs with either step rule.
    tight_s, tight_f, tight_iter = _sklearn_fit(X, y, lam, settings.sklearn_tight_tol, settings.sklearn_max_iter)
    traces = {step: _fista_trace(untimed, basis, step, settings) for step in STEP_RULES}
    fista_best = min(f[0] for trace in traces.values() for _, f, _ in trace)
    f_star = min(tight_f, fista_best)
    target = f_star * (1 + LASSO_MATCH)

    sk_tol = sk_iter = None
    for tol in settings.sklearn_tols:
        seconds, objective, n_iter = _sklearn_fit(X, y, lam, tol, settings.sklearn_max_iter)
        if objective <= target:
            sk_tol, sk_iter = tol, n_iter
            break
    sk_runs = [_sklearn_fit(X, y, lam, sk_tol, settings.sklearn_max_iter)[:2] for _ in range(repeats)] \
        if sk_tol is not None else []
    sk_s = _median([r[0] for r in sk_runs])

    out = {
        "lam": lam, "alpha": lam / X.shape[0], "F_star": f_star, "target": target,
        "F_star_from": "sklearn" if tight_f <= fista_best else "fista",
        "sklearn_tight": {"tol": settings.sklearn_tight_tol, "objective": tight_f, "n_iter": tight_iter,
                          "seconds": tight_s},
        "sklearn": {"tol": sk_tol, "n_iter": sk_iter, "seconds": sk_s,
                    "objective": _median([r[1] for r in sk_runs]), "samples_s": [r[0] for r in sk_runs]},
    }
    for step, key in STEP_KEYS.items():
        iterations, tries = _first_hit(traces[step], [target])
        runs = [_fista_time(untimed, basis, basis_name, iterations, step) for _ in range(repeats)] \
            if iterations is not None else []
        seconds = _median([r[0] for r in runs])
        out[key] = {"step": step, "iterations": iterations, "retried_steps": tries and tries[0], "seconds": seconds,
                    "objective": _median([r[1] for r in runs]), "samples_s": [r[0] for r in runs]}
        out[f"speedup{key.removeprefix('fista')}"] = _ratio(sk_s, seconds)
    return out


def bench_lasso_batch(device: torch.device, repeats: int, settings: BenchSettings, basis_name: str = "dct") -> dict:
    """FISTA on ``settings.batch_images`` faces at once (one A), with either step rule, against sklearn image by
    image, each image to F ≤ F*ᵢ(1 + ``LASSO_MATCH``), F*ᵢ the best of long FISTA runs (``fista_cap`` iterations;
    the single-image rows show it within 1e-4 of sklearn's tight fits). Per-image times."""
    from .priors.sampling import sample
    basis = BASES[basis_name]
    truth = torch.cat([sample("dcgan", FACE_SEED + i, device) for i in range(settings.batch_images)])
    problem = make_problem(truth, get_domain("faces"), "gaussian", {"m": FACES_M}, FACES_NOISE, PROBLEM_SEED, device)
    untimed = replace(problem, truth=None)
    lams = choose_lambda(problem, basis, LassoSettings(lam_ratio=BENCH_LAM_RATIO)).tolist()
    X = design_matrix(problem, basis).numpy()
    ys = problem.y.double().cpu().numpy()
    traces = {step: _fista_trace(untimed, basis, step, settings) for step in STEP_RULES}
    targets = [min(f[i] for trace in traces.values() for _, f, _ in trace) * (1 + LASSO_MATCH)
               for i in range(settings.batch_images)]
    sk_s = []
    for i in range(settings.batch_images):
        reached = next((tol for tol in settings.sklearn_tols
                        if _sklearn_fit(X, ys[i], lams[i], tol, settings.sklearn_max_iter)[1] <= targets[i]), None)
        if reached is not None:
            sk_s.append(_median([_sklearn_fit(X, ys[i], lams[i], reached, settings.sklearn_max_iter)[0]
                                 for _ in range(repeats)]))
    sk_per_image = statistics.fmean(sk_s) if len(sk_s) == settings.batch_images else None
    out = {"basis": basis_name, "images": settings.batch_images,
           "sklearn": {"per_image_s": sk_per_image, "samples_s": sk_s}}
    for step, key in STEP_KEYS.items():
        iterations, tries = _first_hit(traces[step], targets)
        fista_s = _median([_fista_time(untimed, basis, basis_name, iterations, step)[0] for _ in range(repeats)]) \
            if iterations is not None else None
        per_image = fista_s / settings.batch_images if fista_s is not None else None
        out[key] = {"step": step, "iterations": iterations, "retried_steps": tries, "seconds": fista_s,
                    "per_image_s": per_image}
        out[f"speedup_per_image{key.removeprefix('fista')}"] = _ratio(sk_per_image, per_image)
    return out


def bench_lasso(problem: Problem, repeats: int, settings: BenchSettings) -> dict:
    return {
        "setting": {"domain": "faces", "operator": "gaussian", "m": FACES_M, "noise": FACES_NOISE,
                    "lambda_rule": "core default: ratio · ‖ΨᵀAᵀy‖∞", "match": LASSO_MATCH},
        **{name: bench_lasso_basis(problem, name, repeats, settings) for name in ("dct", "wavelet")},
        "batch": bench_lasso_batch(problem.device, repeats, settings),
    }


# ---------------------------------------------------------------------------------------------- 3. first snapshot

def _mnist_digit() -> torch.Tensor:
    from .priors.mnist_data import load_split
    return load_split("test")[0][:1]


def time_to_first_snapshot(truth: torch.Tensor, domain: str, m: int, methods: list[str],
                           device: torch.device, every: int = SNAPSHOT_EVERY) -> dict:
    """Wall time from building the problem (A, y) to the first streamed frame, and until every method
    has reported once. Priors are loaded (and cached) inside ``run_methods``, as in the app."""
    _sync(device)
    start = time.perf_counter()
    problem = make_problem(truth, get_domain(domain), "gaussian", {"m": m}, 0.0, PROBLEM_SEED, device)
    first = everyone = None
    stream_ = run_methods(problem, methods, Options(), every=every)
    for frame in stream_:
        now = time.perf_counter() - start
        first = now if first is None else first
        if len(frame.latest) == len(methods):
            everyone = now
            break
    stream_.close()
    return {"first_frame_s": first, "all_methods_s": everyone}


def bench_first_snapshot(faces_truth: torch.Tensor, repeats: int, device: torch.device) -> dict:
    cases = {
        "mnist": (_mnist_digit().to(device), "mnist", 100, ["lasso-pixel", "csgm-vae"]),
        "faces": (faces_truth, "faces", FACES_M, ["lasso-dct", "csgm-dcgan"]),
    }
    out = {}
    for key, (truth, domain, m, methods) in cases.items():
        runs = [time_to_first_snapshot(truth, domain, m, methods, device) for _ in range(repeats)]
        out[key] = {"m": m, "methods": methods, "every": SNAPSHOT_EVERY, "noise": 0.0,
                    "first_frame_s": _median([r["first_frame_s"] for r in runs]),
                    "all_methods_s": _median([r["all_methods_s"] for r in runs]),
                    "cold_first_frame_s": runs[0]["first_frame_s"]}
    return out


# ---------------------------------------------------------------------------------------------- the whole bench

def run_bench(device: torch.device, repeats: int = 3, quick: bool = False, threads: int | None = None) -> dict:
    """Run every section on ``device``; a dict of settings, machine, results and peak memory.

    ``quick`` shortens CSGM to 5 steps and loosens the F* search (for tests). ``threads`` sets torch's
    CPU threads for the run (restored after); ``None`` keeps the current setting. Speed ratios are
    reported as reference time ÷ our time (> 1: ours is faster), ``None`` where a target was never reached.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be ≥ 1; got {repeats}")
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _run_bench(device, repeats, quick)
    finally:
        torch.set_num_threads(previous_threads)


def _run_bench(device: torch.device, repeats: int, quick: bool) -> dict:
    settings = QUICK if quick else FULL
    wall = time.perf_counter()
    result = {"quick": quick, "repeats": repeats, "settings": asdict(settings), "machine": machine(device)}
    memory, sections = {}, {}
    from .priors.sampling import sample
    truth = sample("dcgan", FACE_SEED, device)
    problem = faces_problem(device, truth)
    runs = {
        "first_snapshot": lambda: bench_first_snapshot(truth, repeats, device),
        "csgm": lambda: bench_csgm(problem, repeats, settings),
        "lasso": lambda: bench_lasso(problem, repeats, settings),
    }
    for name, run in runs.items():
        _reset_cuda_peak(device)
        start = time.perf_counter()
        result[name] = run()
        sections[name] = time.perf_counter() - start
        memory[f"after_{name}"] = _peak_memory_mib(device)
    result["memory"] = memory
    result["section_wall_s"] = sections
    result["machine"]["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    result["wall_s"] = time.perf_counter() - wall
    return result


def _f(value, digits=3, unit="") -> str:
    if value is None:
        return "not reached"
    if isinstance(value, float):
        return f"{value:.{digits}g}{unit}" if abs(value) < 1e4 else f"{value:.{digits}e}{unit}"
    return f"{value}{unit}"


def format_report(result: dict) -> str:
    """The bench result as markdown tables (medians; ratio = reference time ÷ our time)."""
    m = result["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores_usable']} usable cores ({m['cores']} total), torch threads "
        f"{m['torch_threads']}, device {m['device']}; torch {m['torch']}, scikit-learn {m['sklearn']}. "
        f"Load average at start {m['load_average_start']}, end {m.get('load_average_end')}.",
        f"Medians of {result['repeats']} repeats{' (quick mode)' if result['quick'] else ''}; "
        f"whole bench {result.get('wall_s', 0):.0f} s.",
        "",
    ]
    c = result["csgm"]
    s = c["setting"]
    lines += [
        f"### CSGM-DCGAN, faces, m = {s['m']}, σ = {s['noise']}, {s['restarts']} restarts × {s['steps']} steps, "
        f"lr {s['lr']}, λ {s['lam']}",
        "",
        "| solver | total s | to reference's final loss, s | to reference's MSE, s | final ‖y − AG(z)‖² | final MSE |",
        "|---|---|---|---|---|---|",
        f"| reference loop (one restart at a time) | {_f(c['reference']['seconds'])} | — | — | "
        f"{_f(c['reference']['measurement_loss'], 4)} | {_f(c['reference']['mse'], 3)} |",
        f"| before (`csgm`, paper's Adam, restarts batched) | {_f(c['ours']['seconds'])} | {_f(c['ours']['to_reference_loss_s'])} | "
        f"{_f(c['ours']['to_reference_mse_s'])} | {_f(c['ours']['measurement_loss'], 4)} | {_f(c['ours']['mse'], 3)} |",
        "",
        f"| after (`csgm`, `FAST_DCGAN`: {c['setting']['after']['optimiser']}, "
        f"{c['setting']['after']['restarts']} restarts pruned after {c['setting']['after']['prune_after']}, "
        f"≤ {c['setting']['after']['steps']} steps, stopped at {c['after']['steps']}) | {_f(c['after']['seconds'])} | "
        f"{_f(c['after']['to_reference_loss_s'])} | {_f(c['after']['to_reference_mse_s'])} | "
        f"{_f(c['after']['measurement_loss'], 4)} | {_f(c['after']['mse'], 3)} |",
        "",
        f"Speed-up over the reference loop: before (paper's Adam, batched) total {_f(c['speedup_total'])}×, to the "
        f"reference's final loss {_f(c['speedup_to_reference_loss'])}×; after: total {_f(c['after_speedup_total'])}×, "
        f"to the reference's final loss **{_f(c['after_speedup_to_reference_loss'])}×**.",
        "",
        f"### Lasso, same problem, equal objective F ≤ F*(1 + {result['lasso']['setting']['match']:g})",
        "",
        "| basis | λ | F* | FISTA step | FISTA iterations (retried) | FISTA s | sklearn tol | sklearn epochs | "
        "sklearn s | speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("dct", "wavelet"):
        r = result["lasso"][name]
        for key in ("fista_power", "fista", "fista_working_set"):
            f = r[key]
            lines.append(
                f"| {name} | {_f(r['lam'])} | {_f(r['F_star'], 6)} | {f['step']} | {_f(f['iterations'])} "
                f"({'—' if f['retried_steps'] is None else f['retried_steps']}) | {_f(f['seconds'])} | {_f(r['sklearn']['tol'])} | "
                f"{_f(r['sklearn']['n_iter'])} | {_f(r['sklearn']['seconds'])} | "
                f"{_f(r['speedup' + key.removeprefix('fista')])}× |")
    b = result["lasso"]["batch"]
    lines += ["", f"Batch of {b['images']} faces (Lasso-{b['basis']}, one A), sklearn {_f(b['sklearn']['per_image_s'])} s "
              f"per image:", "", "| FISTA step | iterations | s for the batch | s per image | speed-up per image |",
              "|---|---|---|---|---|"]
    for key in ("fista_power", "fista", "fista_working_set"):
        f = b[key]
        lines.append(f"| {f['step']} | {_f(f['iterations'])} | {_f(f['seconds'])} | {_f(f['per_image_s'])} | "
                     f"**{_f(b['speedup_per_image' + key.removeprefix('fista')])}×** |")
    lines += ["", f"### Time to the first streamed snapshot (every {SNAPSHOT_EVERY} iterations, from building A and y)",
              "", "| setting | methods | first frame s | all methods reported s | first frame, first run s |",
              "|---|---|---|---|---|"]
    for key, r in result["first_snapshot"].items():
        lines.append(f"| {key}, m = {r['m']} | {' + '.join(r['methods'])} | {_f(r['first_frame_s'])} | "
                     f"{_f(r['all_methods_s'])} | {_f(r['cold_first_frame_s'])} |")
    lines += ["", "### Peak memory", "", "| after section | peak RSS MiB | CUDA peak allocated MiB |", "|---|---|---|"]
    for key, r in result["memory"].items():
        lines.append(f"| {key.removeprefix('after_')} | {r['peak_rss_mib']:.0f} | "
                     f"{_f(r.get('cuda_peak_allocated_mib'), 4) if 'cuda_peak_allocated_mib' in r else '—'} |")
    return "\n".join(lines)
