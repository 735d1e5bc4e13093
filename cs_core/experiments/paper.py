"""The paper's sweep: per-pixel error vs the number of measurements m for several methods.

Protocol (docs/RESULTS.md; the image sets and seeds in ``splits``; the validation rules in ``validation``):
- Lasso's λ per (method, m) is ``ratio · λ_max`` with the ratio from ``LAMBDA_GRID`` that gives the lowest
  mean MSE on the validation images, never on the images reported. The ratio is recorded in the CSV, and the
  ratios recorded by the published sweeps (docs/results, rows with image seeds) are reused instead of being
  recomputed.
- DIP's step count per sweep point is the count of ``DIP_STEP_GRID`` with the lowest mean validation MSE (one
  run per validation image, read every ``DIP_EVERY`` steps), not the app's fixed ``DEFAULT_ITERATIONS``; it is
  recorded in the ``iterations`` column, and the MSE per validation image and count in ``<out>/validation.csv``,
  from which a resumed sweep reads the choice.
- Operator: Gaussian A with N(0, 1/m) entries, noise σ per measurement. Each image at each m has its own A
  (or MRI mask), noise and solver starts, drawn from its image seed (``splits.image_seed``: the sweep's seed,
  the split, the image's index; recorded in the ``seed`` column), and is solved alone, so that any row is
  reproducible by itself; validation images draw from seeds disjoint from the reported ones. CSGM with the
  prior's default settings, or with ``Prior.paper`` where the prior has them (DCGAN), restarts batched.
  Other operators (``fourier``, ``blur``) are measured at their given parameters (one point, m = the
  operator's m) and recorded in the ``operator`` column; TV's λ ratio is chosen like Lasso's. The
  pseudo-method ``sensor`` records the sensor's own view as the estimate (the zero-filled image, the blurred
  input).
"""
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch

from ..domains import get_domain
from ..errors import InputError
from ..operators import build_operator
from ..problem import OPERATOR_STREAM, make_problem, stream
from ..session import run_methods
from ..solvers import Options, check_methods
from ..solvers.csgm import CSGMSettings, csgm
from ..solvers.snapshot import Snapshot, make_snapshot
from .figure import Point, plot_error_vs_m, summarise
from .splits import check_image_seeds, image_seed, image_seeds, load_images
from .table import RESULT_FIELDS, VALIDATION_FIELDS, append_rows, describe_operator, key_of, read_rows, row_key
from .validation import (PUBLISHED_LASSO_STEP, VALIDATION_CSV, dip_choice, dip_steps, dip_validation_image,
                         lambda_ratio, recorded_dip_validation)

PAPER_M = {"mnist": (10, 25, 50, 100, 200, 300, 400, 500, 750),
           "faces": (20, 50, 100, 200, 500, 1000, 2500, 5000)}
SENSOR = "sensor"  # the sensor's view as the estimate; not for gaussian, whose view is a scaled back-projection
TUNED = ("lasso-", "tv")  # methods whose λ ratio the validation rule chooses
STOP_EVERY = 5  # a stoppable sweep looks at its stop condition every 5 solver iterations


def settings_of(defaults) -> CSGMSettings:
    """A prior's ``CSGMDefaults`` (``Prior.defaults`` or ``Prior.paper``) as the solver's settings."""
    return CSGMSettings(**asdict(defaults))


def sensor_snapshot(problem) -> Snapshot:
    """The sensor's view scored as an estimate (the ``sensor`` pseudo-method)."""
    return make_snapshot(SENSOR, 0, problem.view(), [0.0] * problem.batch, [0.0] * problem.batch, 0.0,
                         problem.truth, final=True)


def published_csgm(problem, method: str, every: int | None = None) -> Iterator[Snapshot] | None:
    """``csgm-<prior>``'s snapshots with the prior's ``paper`` settings, which every published sweep of it
    used (the final one, or one every ``every`` steps); None for every other method (they run from the registry)."""
    from ..priors import PRIORS
    prior = PRIORS.get(method.removeprefix("csgm-")) if method.startswith("csgm-") else None
    if prior is None or prior.paper is None:
        return None
    return csgm(problem, prior.load(problem.device), prior.latent_dim, settings_of(prior.paper), every, method)


def solve(problem, method: str, options: Options, should_stop: Callable[[], bool] | None = None) -> Snapshot | None:
    """The method's final snapshot on ``problem`` as the sweep runs it; with ``should_stop``, a snapshot every
    ``STOP_EVERY`` iterations checks it, and None comes back as soon as it is true."""
    if method == SENSOR:
        return sensor_snapshot(problem)
    every = STOP_EVERY if should_stop else None
    snaps = published_csgm(problem, method, every) or \
        (frame.latest[method] for frame in run_methods(problem, [method], options, every))
    final = None
    for final in snaps:
        if should_stop and should_stop():
            snaps.close()
            return None
    return final


def sweep_points(domain, ms: list[int], operator: str, params: dict | None) -> list[dict]:
    """The operator parameters of each sweep point: one per m for gaussian, else the one given point."""
    if operator != "gaussian":
        return [{k: v for k, v in (params or {}).items() if v is not None}]
    dom = get_domain(domain)
    for m in ms:
        if not isinstance(m, int) or not 1 <= m <= dom.n:
            raise InputError(f"every m must lie in 1..{dom.n} for {domain}; got {m}")
    return [{"m": m} for m in ms]


def point_m(domain: str, operator: str, point: dict) -> int:
    """The number of real measurements at a sweep point (gaussian's is its m; no matrix is drawn for it)."""
    if operator == "gaussian":
        return point["m"]
    return build_operator(operator, get_domain(domain), point, stream(0, OPERATOR_STREAM), torch.device("cpu")).m


@dataclass(frozen=True)
class Cell:
    """One unit of a sweep: a method at one sweep point on one image, measured and solved from its image seed
    (so its row is the same wherever it runs)."""
    method: str
    point: dict
    m: int
    index: int
    seed: int                # the image seed
    ratio_key: tuple | None  # ``lambda_ratio``'s arguments when validation chooses λ, else None
    steps_key: tuple | None  # DIP's sweep point (``dip_steps``'s key), whose validation chooses its steps, else None
    step: str | None         # FISTA's step rule (None: Lasso exactly as the app runs it)
    iterations: int | None   # Lasso's iterations in all (None: its default)


@dataclass(frozen=True)
class Plan:
    """What a sweep still has to compute: its images, the ``operator`` column and the cells in row order."""
    domain: str
    source: str
    operator: str
    label: str
    noise: float
    seed: int
    device: torch.device
    names: list[str]
    images: torch.Tensor
    cells: list[Cell]


def plan(domain: str, methods: list[str], ms: list[int], source: str, count: int | None, noise: float,
         seed: int, device: torch.device, done: set | None = None, operator: str = "gaussian",
         params: dict | None = None, lam_rule: str = "validation", lasso_iterations: int | None = None) -> Plan:
    """The cells of a sweep (``sweep``'s arguments) in row order: method, point, image; only images whose row key
    is not in ``done``."""
    if SENSOR in methods and operator == "gaussian":
        raise InputError(f"{SENSOR} scores the sensor's view, which for gaussian is a scaled back-projection; "
                         f"use it with fourier or blur")
    named = [m for m in methods if m != SENSOR]
    methods = ([SENSOR] if SENSOR in methods else []) + (check_methods(named, domain) if named or not methods else [])
    points = sweep_points(domain, ms, operator, params)
    label = describe_operator(operator, params if operator != "gaussian" else None)
    data = load_images(domain, source, count)
    seeds = image_seeds(seed, source, len(data.names))
    done = done or set()
    cells = []
    for method in methods:
        for point in points:
            m = point_m(domain, operator, point)
            todo = [i for i, name in enumerate(data.names)
                    if row_key(domain, source, method, m, name, noise, seeds[i], label) not in done]
            per_image = lam_rule == "per-image" and method.startswith("lasso-")
            ratio_key = (domain, method, m, noise, seed, device, operator, tuple(sorted(point.items()))) \
                if method.startswith(TUNED) and not per_image else None
            step = None if per_image else PUBLISHED_LASSO_STEP  # per image: Lasso exactly as the app runs it
            steps_key = (domain, m, noise, seed, device, operator, tuple(sorted(point.items()))) \
                if method == "dip" else None
            iterations = lasso_iterations if method.startswith("lasso-") else None
            cells += [Cell(method, point, m, i, seeds[i], ratio_key, steps_key, step, iterations) for i in todo]
    return Plan(domain, source, operator, label, noise, seed, device, list(data.names), data.images, cells)


def cell_rows(plan: Plan, cell: Cell, ratio: float | None, steps: int | None = None,
              should_stop: Callable[[], bool] | None = None) -> list[dict] | None:
    """The row of one cell of ``plan`` (a list of one), with validation's λ ratio or DIP step count where it chose
    one; None once ``should_stop()`` is true."""
    problem = make_problem(plan.images[cell.index:cell.index + 1], get_domain(plan.domain), plan.operator,
                           cell.point, plan.noise, cell.seed, plan.device)
    options = Options(iterations=steps or cell.iterations, lam_ratio=ratio, lasso_step=cell.step)
    final = solve(problem, cell.method, options, should_stop)
    if final is None:
        return None
    return [{"domain": plan.domain, "source": plan.source, "method": cell.method, "m": cell.m,
             "image": plan.names[cell.index], "noise": plan.noise, "seed": cell.seed,
             "lam_ratio": "" if ratio is None else ratio, "mse": final.mse[0], "psnr": final.psnr[0],
             "ssim": final.ssim[0], "seconds": final.seconds, "iterations": final.iteration, "operator": plan.label}]


def sweep(domain: str, methods: list[str], ms: list[int], source: str, count: int | None, noise: float,
          seed: int, device: torch.device, done: set | None = None, operator: str = "gaussian",
          params: dict | None = None, lam_rule: str = "validation", lasso_iterations: int | None = None,
          should_stop: Callable[[], bool] | None = None, out: Path | None = None) -> Iterator[dict]:
    """Yield one result row per (method, m, image), each image solved alone; rows whose key is in ``done`` are skipped;
    the rows end early once ``should_stop()`` is true (checked every ``STOP_EVERY`` solver iterations).
    DIP's validation (``dip_steps``) runs before its first cell at a point, resumed from and recorded in
    ``<out>/validation.csv`` when ``out`` is given.
    ``lam_rule``: ``validation`` (the protocol above) or ``per-image`` (Lasso's own rule and default step, as the
    app runs it; ``lam_ratio`` left empty). ``lasso_iterations``: Lasso's iterations in all (default: 300, or
    540 with the per-image rule), e.g. enough to converge, to compare two λ choices at equal optimisation."""
    work = plan(domain, methods, ms, source, count, noise, seed, device, done, operator, params, lam_rule,
                lasso_iterations)
    steps = {}
    for cell in work.cells:
        ratio = lambda_ratio(*cell.ratio_key) if cell.ratio_key else None
        if cell.steps_key and cell.steps_key not in steps:
            steps[cell.steps_key] = dip_steps(cell.steps_key, out)
        rows = cell_rows(work, cell, ratio, steps.get(cell.steps_key), should_stop)
        if rows is None:
            return
        yield from rows


def sweep_on(client, *args, out: Path | None = None, **kwargs) -> Iterator[dict]:
    """``sweep``'s rows (``plan``'s arguments) with each cell a task on the Dask ``client`` (``distributed.Client``),
    each λ ratio that validation chooses a task that the cells at its point wait for, and DIP's validation a task
    per validation image not yet in ``<out>/validation.csv`` plus its choice, which DIP's cells wait for. Rows come in
    ``sweep``'s order, each cell's once it and the cells before it are done (validation rows before the first DIP
    cell at their point, as ``sweep`` writes them); leaving early cancels what is left."""
    work = plan(*args, **kwargs)
    shared = client.scatter(work, hash=False)  # the images go to each worker once, not with every task
    ratios, steps, images, tasks = {}, {}, {}, []
    for cell in work.cells:
        if cell.ratio_key and cell.ratio_key not in ratios:
            ratios[cell.ratio_key] = client.submit(lambda_ratio, *cell.ratio_key, pure=False)
        if cell.steps_key and cell.steps_key not in steps:
            recorded, todo = recorded_dip_validation(cell.steps_key, out)
            images[cell.steps_key] = [client.submit(dip_validation_image, *cell.steps_key, i, pure=False) for i in todo]
            steps[cell.steps_key] = client.submit(dip_choice, recorded, *images[cell.steps_key], pure=False)
        tasks.append(client.submit(cell_rows, shared, cell, ratios.get(cell.ratio_key), steps.get(cell.steps_key),
                                   pure=False))
    pending = [t for group in images.values() for t in group] + list(ratios.values()) + list(steps.values())
    try:
        for cell, task in zip(work.cells, tasks):
            for image in images.pop(cell.steps_key, []):
                if out:
                    append_rows(Path(out) / VALIDATION_CSV, VALIDATION_FIELDS, image.result())
            yield from task.result()
    finally:
        client.cancel(tasks + pending)


def run_sweep(domain, methods, ms, source, count, noise, seed, device, out: Path, progress: bool = True,
              operator: str = "gaussian", params: dict | None = None, lam_rule: str = "validation",
              lasso_iterations: int | None = None, client=None) -> list[dict]:
    """Run (or resume) a sweep into ``out/results.csv`` (DIP's validation into ``out/validation.csv``) and draw
    ``out/figure.png``; returns all rows.
    One operator per directory (gaussian's m values may vary). With a Dask ``client`` each cell is a task
    (``sweep_on``); the rows and their order are the serial run's."""
    from tqdm import tqdm
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "results.csv"
    rows = read_rows(csv_path)
    label = describe_operator(operator, params if operator != "gaussian" else None)
    others = {r["operator"] for r in rows} - {label}
    if others:
        raise InputError(f"{csv_path} holds rows of operator {', '.join(sorted(others))!r}, not {label!r}; "
                         f"use another --out directory")
    check_image_seeds(rows, csv_path)
    done = {key_of(r) for r in rows}
    ms_of_points = [point_m(domain, operator, p) for p in sweep_points(domain, ms, operator, params)]
    wanted = {row_key(domain, source, method, m, name, noise, image_seed(seed, source, i), label)
              for method in methods for m in ms_of_points
              for i, name in enumerate(load_images(domain, source, count).names)}
    with tqdm(total=len(wanted), initial=len(wanted & done), unit="img", desc=f"{domain}/{source}",
              disable=not progress) as bar:
        def counted(new_rows):
            for row in new_rows:
                yield row
                rows.append(row)
                bar.set_postfix(method=row["method"], m=row["m"])
                bar.update()
        arguments = (domain, methods, ms, source, count, noise, seed, device, done, operator, params, lam_rule,
                     lasso_iterations)
        new = sweep(*arguments, out=out) if client is None else sweep_on(client, *arguments, out=out)
        append_rows(csv_path, RESULT_FIELDS, counted(new))
    title = (f"Reconstruction error vs m — {', '.join(sorted({r['domain'] for r in rows}))}\n"
             f"bands: 95 % CI of the mean (lower edge ≥ mean/10)")
    plot_error_vs_m(summarise(rows), out / "figure.png", {None: title}, "")
    return rows


def m_at_error(points: list[Point], error: float) -> float | None:
    """The m at which a method's mean error curve reaches ``error``, by log–log interpolation between
    the first pair of sweep points that brackets it; None when the curve never gets that low."""
    for (m0, e0, *_), (m1, e1, *_) in zip(points, points[1:]):
        if e0 >= error >= e1 and e0 > e1 > 0:
            t = (math.log(e0) - math.log(error)) / (math.log(e0) - math.log(e1))
            return math.exp(math.log(m0) + t * (math.log(m1) - math.log(m0)))
    if points and points[0][1] <= error:
        return float(points[0][0])
    return None


def measurement_saving(summary, domain: str, source: str, lasso: str, csgm: str, m_ref: int) -> dict:
    """m_Lasso / m_CSGM at the error CSGM reaches at ``m_ref`` (the paper's headline), plus where Lasso overtakes."""
    lasso_err = {m: e for m, e, *_ in summary[(domain, source, lasso)]}
    csgm_err = {m: e for m, e, *_ in summary[(domain, source, csgm)]}
    target = csgm_err[m_ref]
    m_lasso = m_at_error(summary[(domain, source, lasso)], target)
    overtakes = next((m for m in sorted(csgm_err) if m in lasso_err and lasso_err[m] < csgm_err[m]), None)
    return {"target_error": target, "m_lasso": m_lasso, "saving": None if m_lasso is None else m_lasso / m_ref,
            "lasso_overtakes_at": overtakes}


def markdown_table(summary, domain: str, source: str) -> str:
    """Mean per-pixel MSE ± 95 % half-width per method and m, as a Markdown table."""
    methods = sorted(method for d, s, method in summary if (d, s) == (domain, source))
    ms = sorted({m for method in methods for m, *_ in summary[(domain, source, method)]})
    lines = ["| m | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for m in ms:
        cells = []
        for method in methods:
            point = next((p for p in summary[(domain, source, method)] if p[0] == m), None)
            cells.append("" if point is None else f"{point[1]:.4f} ± {point[2]:.4f} (n={point[3]})")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
