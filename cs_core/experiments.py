"""Sweeps over the number of measurements m: per-pixel error vs m for several methods (the paper's figure).

Protocol (docs/RESULTS.md):
- Images: ``heldout`` = MNIST test split (never trained or tuned on); ``inrange`` = G(z) of the domain's
  prior for seeds ``EVAL_SEED`` + i (the gallery uses seeds below 2000); ``real`` = the gallery's real
  photos of the domain.
- Lasso's λ per (method, m) is ``ratio · λ_max`` with the ratio from ``LAMBDA_GRID`` that gives the
  lowest mean MSE on ``VALIDATION_IMAGES`` validation images (MNIST val split; faces G(z) for seeds
  ``VALIDATION_SEED`` + i), never on the images reported. The ratio is recorded in the CSV, and the
  ratios recorded by the published sweeps (docs/results) are reused instead of being recomputed.
- Operator: Gaussian A with N(0, 1/m) entries, noise σ per measurement, one A per (m, seed) shared by
  the batch; CSGM with the prior's default settings, or its paper settings where the default has changed
  since (``Prior.paper``: DCGAN), images and restarts batched. Other operators
  (``fourier``, ``blur``) are measured at their given parameters (one point, m = the operator's m) and
  recorded in the ``operator`` column; TV's λ ratio is chosen like Lasso's. The pseudo-method ``sensor``
  records the sensor's own view as the estimate (the zero-filled image, the blurred input).
"""
import csv
import functools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from .bases import BASES
from .domains import get_domain
from .errors import InputError
from .images import load_image
from .metrics import all_metrics
from .palette import method_color
from .operators import build_operator
from .problem import OPERATOR_STREAM, make_problem, stream
from .session import run_to_end
from .solvers import Options, check_methods
from .solvers.lasso import LassoSettings, fista
from .solvers.snapshot import Snapshot, make_snapshot
from .solvers.tv import TVSettings, tv

EVAL_SEED, VALIDATION_SEED = 2000, 3000
LAMBDA_GRID = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
VALIDATION_IMAGES = 8
SOURCES = ("heldout", "inrange", "real")
PAPER_M = {"mnist": (10, 25, 50, 100, 200, 300, 400, 500, 750),
           "faces": (20, 50, 100, 200, 500, 1000, 2500, 5000)}
BATCH = {"mnist": 100, "faces": 8}
RESULTS_DIR = Path(__file__).resolve().parents[1] / "docs" / "results"
FIELDS = ["domain", "source", "method", "m", "image", "noise", "seed", "lam_ratio", "mse", "psnr", "ssim",
          "seconds", "iterations", "operator"]
SENSOR = "sensor"  # the sensor's view as the estimate; not for gaussian, whose view is a scaled back-projection
TUNED = ("lasso-", "tv")  # methods whose λ ratio the validation rule chooses
# FISTA's step rule for every sweep, pinned: the published numbers (docs/RESULTS.md, docs/results) and their
# validation-chosen λ ratios were computed with the constant power-iteration step; the solver's default
# (backtracking) reaches the same minimiser along another path, so its errors at a fixed iteration count differ
PUBLISHED_LASSO_STEP = "power"


@dataclass
class ImageSet:
    names: list[str]
    images: torch.Tensor  # (N, C, H, W) in [0, 1]


def prior_of(domain: str):
    from .priors import PRIORS
    for prior in PRIORS.values():
        if prior.domain == domain:
            return prior
    raise InputError(f"no generative prior for {domain}")


def generated(domain: str, first_seed: int, count: int) -> ImageSet:
    from .priors.sampling import sample
    prior = prior_of(domain)
    seeds = range(first_seed, first_seed + count)
    images = torch.cat([sample(prior.name, s, torch.device("cpu")) for s in seeds])
    return ImageSet([f"{prior.name}-seed-{s}" for s in seeds], images)


def load_images(domain: str, source: str, count: int | None) -> ImageSet:
    """The images a sweep reports on (see the module docstring)."""
    if source == "heldout":
        if domain != "mnist":
            raise InputError("--source heldout exists for mnist only; use inrange or real for faces")
        from .priors.mnist_data import load_split
        images, labels, rows = load_split("test")
        count = count or len(rows)
        return ImageSet([f"test-row-{r}" for r in rows[:count]], images[:count])
    if source == "inrange":
        return generated(domain, EVAL_SEED, count or 32)
    if source == "real":
        from .assets import list_assets
        photos = [a for a in list_assets(domain) if not a.in_range]
        if not photos:
            raise InputError(f"the gallery has no real photos for {domain}")
        photos = photos[:count] if count else photos
        return ImageSet([a.name for a in photos], torch.cat([load_image(a.path, get_domain(domain)) for a in photos]))
    raise InputError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")


def validation_images(domain: str) -> torch.Tensor:
    if domain == "mnist":
        from .priors.mnist_data import load_split
        return load_split("val")[0][:VALIDATION_IMAGES]
    return generated(domain, VALIDATION_SEED, VALIDATION_IMAGES).images


def describe_operator(operator: str, params: dict | None) -> str:
    """The ``operator`` column: ``gaussian`` (its m has its own column), else the name and the given parameters."""
    given = sorted((k, v) for k, v in (params or {}).items() if v is not None)
    return " ".join([operator, *(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in given)])


def choose_lambda_ratio(domain: str, method: str, m: int, noise: float, seed: int, device: torch.device,
                        operator: str = "gaussian", params: tuple = ()) -> float:
    """The ratio in LAMBDA_GRID with the lowest mean validation MSE for this Lasso/TV method and operator (m for
    gaussian, else ``params`` as sorted items); every ratio solved in one batch, on the same measurements."""
    images = validation_images(domain)
    point = {"m": m} if operator == "gaussian" else dict(params)
    single = make_problem(images, get_domain(domain), operator, point, noise, seed, device)
    grid = len(LAMBDA_GRID)
    problem = replace(single, y=single.y.repeat(grid, 1), truth=single.truth.repeat(grid, 1, 1, 1))
    ratios = torch.tensor(LAMBDA_GRID, device=device).repeat_interleave(len(images))
    if method == "tv":
        *_, final = tv(problem, TVSettings(lam_ratio=ratios))
    else:
        settings = LassoSettings(lam_ratio=ratios, step=PUBLISHED_LASSO_STEP)
        *_, final = fista(problem, BASES[method.removeprefix("lasso-")], settings)
    errors = np.asarray(final.mse).reshape(grid, len(images)).mean(1)
    return LAMBDA_GRID[int(errors.argmin())]


@functools.lru_cache(maxsize=1)
def published_lambda_ratios() -> dict[tuple, float]:
    """(domain, method, m, noise, seed) → the ratio validation chose, as recorded by the sweeps in docs/results."""
    return {row_key(r["domain"], "", r["method"], r["m"], "", r["noise"], r["seed"], r.get("operator")):
            float(r["lam_ratio"]) for path in sorted(RESULTS_DIR.glob("*/results.csv")) for r in read_rows(path)
            if r["lam_ratio"]}


@functools.lru_cache(maxsize=None)
def lambda_ratio(domain: str, method: str, m: int, noise: float, seed: int, device: torch.device,
                 operator: str = "gaussian", params: tuple = ()) -> float:
    """The validation rule's ratio: recorded by a published sweep if there is one, else chosen now (once per process)."""
    label = describe_operator(operator, dict(params))
    recorded = published_lambda_ratios().get(row_key(domain, "", method, m, "", noise, seed, label))
    return recorded if recorded is not None else choose_lambda_ratio(domain, method, m, noise, seed, device,
                                                                     operator, params)


def sensor_snapshot(problem) -> Snapshot:
    """The sensor's view scored as an estimate (the ``sensor`` pseudo-method)."""
    return make_snapshot(SENSOR, 0, problem.view(), [0.0] * problem.batch, [0.0] * problem.batch, 0.0,
                         problem.truth, final=True)


def published_csgm(problem, method: str) -> Snapshot | None:
    """``csgm-<prior>``'s final snapshot with the paper's settings when the prior's default has moved on
    (``Prior.paper``: every published sweep used them); None for every other method."""
    from .priors import PRIORS
    from .solvers.csgm import CSGMSettings, csgm
    prior = PRIORS.get(method.removeprefix("csgm-")) if method.startswith("csgm-") else None
    if prior is None or prior.paper is None:
        return None
    p = prior.paper
    settings = CSGMSettings(steps=p.steps, lr=p.lr, restarts=p.restarts, lam=p.lam, optimiser=p.optimiser,
                            prune_after=p.prune_after, patience=p.patience)
    *_, final = csgm(problem, prior.load(problem.device), prior.latent_dim, settings, None, method)
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


def sweep(domain: str, methods: list[str], ms: list[int], source: str, count: int | None, noise: float,
          seed: int, device: torch.device, done: set | None = None, operator: str = "gaussian",
          params: dict | None = None, lam_rule: str = "validation", lasso_iterations: int | None = None
          ) -> Iterator[dict]:
    """Yield one result row per (method, m, image), batching images; rows whose key is in ``done`` are skipped.
    ``lam_rule``: ``validation`` (the protocol above) or ``per-image`` (Lasso's own rule and default step, as the
    app runs it; ``lam_ratio`` left empty). ``lasso_iterations``: Lasso's iterations in all (default: 300, or
    540 with the per-image rule), e.g. enough to converge, to compare two λ choices at equal optimisation."""
    dom = get_domain(domain)
    if SENSOR in methods and operator == "gaussian":
        raise InputError(f"{SENSOR} scores the sensor's view, which for gaussian is a scaled back-projection; "
                         f"use it with fourier or blur")
    named = [m for m in methods if m != SENSOR]
    methods = ([SENSOR] if SENSOR in methods else []) + (check_methods(named, domain) if named or not methods else [])
    points = sweep_points(domain, ms, operator, params)
    label = describe_operator(operator, params if operator != "gaussian" else None)
    data = load_images(domain, source, count)
    done = done or set()
    for method in methods:
        for point in points:
            m = point_m(domain, operator, point)
            todo = [i for i, name in enumerate(data.names)
                    if row_key(domain, source, method, m, name, noise, seed, label) not in done]
            if not todo:
                continue
            per_image = lam_rule == "per-image" and method.startswith("lasso-")
            ratio = lambda_ratio(domain, method, m, noise, seed, device, operator, tuple(sorted(point.items()))) \
                if method.startswith(TUNED) and not per_image else None
            for start in range(0, len(todo), BATCH[domain]):
                chunk = todo[start:start + BATCH[domain]]
                problem = make_problem(data.images[chunk], dom, operator, point, noise, seed, device)
                step = None if per_image else PUBLISHED_LASSO_STEP  # per image: Lasso exactly as the app runs it
                iterations = lasso_iterations if method.startswith("lasso-") else None
                final = sensor_snapshot(problem) if method == SENSOR else \
                    published_csgm(problem, method) or \
                    run_to_end(problem, [method], Options(iterations=iterations, lam_ratio=ratio, lasso_step=step))[method]
                for j, index in enumerate(chunk):
                    yield {"domain": domain, "source": source, "method": method, "m": m, "image": data.names[index],
                           "noise": noise, "seed": seed, "lam_ratio": "" if ratio is None else ratio,
                           "mse": final.mse[j], "psnr": final.psnr[j], "ssim": final.ssim[j],
                           "seconds": final.seconds / len(chunk), "iterations": final.iteration, "operator": label}


def row_key(domain, source, method, m, image, noise, seed, operator=None) -> tuple:
    """A row's identity; rows written before the ``operator`` column existed are gaussian."""
    return (domain, source, method, int(m), image, float(noise), int(seed), operator or "gaussian")


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def run_sweep(domain, methods, ms, source, count, noise, seed, device, out: Path, progress: bool = True,
              operator: str = "gaussian", params: dict | None = None, lam_rule: str = "validation",
              lasso_iterations: int | None = None) -> list[dict]:
    """Run (or resume) a sweep into ``out/results.csv`` and draw ``out/figure.png``; returns all rows.
    One operator per directory (gaussian's m values may vary); a CSV from before the ``operator`` column
    is rewritten with it (its rows are gaussian)."""
    from tqdm import tqdm
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "results.csv"
    rows = read_rows(csv_path)
    label = describe_operator(operator, params if operator != "gaussian" else None)
    others = {r.get("operator") or "gaussian" for r in rows} - {label}
    if others:
        raise InputError(f"{csv_path} holds rows of operator {', '.join(sorted(others))!r}, not {label!r}; "
                         f"use another --out directory")
    if rows and "operator" not in rows[0]:
        write_rows(csv_path, [{**r, "operator": "gaussian"} for r in rows])
    done = {row_key(r["domain"], r["source"], r["method"], r["m"], r["image"], r["noise"], r["seed"], r.get("operator"))
            for r in rows}
    ms_of_points = [point_m(domain, operator, p) for p in sweep_points(domain, ms, operator, params)]
    wanted = {row_key(domain, source, method, m, name, noise, seed, label)
              for method in methods for m in ms_of_points for name in load_images(domain, source, count).names}
    new_file = not csv_path.exists()
    with csv_path.open("a", newline="") as f, tqdm(total=len(wanted), initial=len(wanted & done), unit="img",
                                                   desc=f"{domain}/{source}", disable=not progress) as bar:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for row in sweep(domain, methods, ms, source, count, noise, seed, device, done, operator, params, lam_rule,
                         lasso_iterations):
            writer.writerow(row)
            f.flush()
            rows.append(row)
            bar.set_postfix(method=row["method"], m=row["m"])
            bar.update()
    plot_error_vs_m(rows, out / "figure.png")
    return rows


def write_rows(path: Path, rows: list[dict]):
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def summarise(rows: list[dict]) -> dict[tuple[str, str, str], list[tuple[int, float, float, int]]]:
    """(domain, source, method) → [(m, mean MSE, 95 % half-width, n images)] sorted by m."""
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["domain"], r["source"], r["method"]), {}).setdefault(int(r["m"]), []).append(float(r["mse"]))
    summary = {}
    for key, by_m in groups.items():
        summary[key] = []
        for m in sorted(by_m):
            values = np.asarray(by_m[m])
            half = 1.96 * values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else 0.0
            summary[key].append((m, float(values.mean()), float(half), len(values)))
    return summary


def plot_error_vs_m(rows: list[dict], path: Path):
    """Mean per-pixel MSE vs m, log–log, 95 % confidence bands, one line per method (and source)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    summary = summarise(rows)
    sources = sorted({source for _, source, _ in summary})
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    for (domain, source, method), points in sorted(summary.items()):
        m, mean, half, n = map(np.asarray, zip(*points))
        label = f"{method} ({source}, n={int(n.max())})"
        color = method_color(method)
        ax.plot(m, mean, marker="o", label=label, color=color, linestyle=("-", "--", ":")[sources.index(source) % 3])
        ax.fill_between(m, np.maximum(mean - half, mean / 10), mean + half, color=color, alpha=0.2)  # floor: mean/10
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of measurements m")
    ax.set_ylabel("per-pixel MSE (pixels in [0, 1])")
    domains = sorted({k[0] for k in summary})
    ax.set_title(f"Reconstruction error vs m — {', '.join(domains)}\nbands: 95 % CI of the mean (lower edge ≥ mean/10)",
                 fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def m_at_error(points: list[tuple[int, float, float, int]], error: float) -> float | None:
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
    csgm_points = summary[(domain, source, csgm)]
    lasso_points = summary[(domain, source, lasso)]
    target = dict((m, e) for m, e, *_ in csgm_points)[m_ref]
    m_lasso = m_at_error(lasso_points, target)
    lasso_err, csgm_err = dict((m, e) for m, e, *_ in lasso_points), dict((m, e) for m, e, *_ in csgm_points)
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


# Lasso's default λ rule against each operator's trivial estimate (issue 15): the operator presets checked
# (gaussian at m = n/8), and the bases per domain.
TRIVIAL_PRESETS = (("superres", {"factor": 2}), ("superres", {"factor": 4}), ("inpaint", {"mask": "center"}),
                   ("inpaint", {"mask": "random", "keep": 0.3}), ("fourier", {"accel": 4}), ("blur", {}),
                   ("gaussian", None))
TRIVIAL_BASES = {"mnist": ("pixel", "dct", "wavelet"), "faces": ("dct", "wavelet")}
TRIVIAL_FIELDS = ["domain", "set", "operator", "basis", "noise", "image", "lam_ratio", "lasso_mse", "trivial_mse"]


def against_trivial(domain: str, noise: float, seed: int, device: torch.device) -> Iterator[dict]:
    """One row per (image set, operator preset, basis, image): Lasso with its default per-image λ rule (and the
    default step) against ``operator.trivial`` (zero-filled, upsampled, blurred, least-norm) on the same y.
    Image sets: the domain's whole gallery and its validation images."""
    from .assets import list_assets
    dom = get_domain(domain)
    gallery = list_assets(domain)
    validation = validation_images(domain)
    sets = {"gallery": ImageSet([a.name for a in gallery], torch.cat([load_image(a.path, dom) for a in gallery])),
            "validation": ImageSet([f"validation-{i}" for i in range(len(validation))], validation)}
    for set_name, data in sets.items():
        for operator, params in TRIVIAL_PRESETS:
            params = {"m": dom.n // 8} if params is None else params
            problem = make_problem(data.images, dom, operator, params, noise, seed, device)
            trivial = all_metrics(problem.operator.trivial(problem.y).cpu(), problem.truth.cpu())["mse"]
            for basis in TRIVIAL_BASES[domain]:
                *_, final = fista(problem, BASES[basis], LassoSettings())
                for i, name in enumerate(data.names):
                    yield {"domain": domain, "set": set_name, "operator": describe_operator(operator, params),
                           "basis": basis, "noise": noise, "image": name, "lam_ratio": final.extra["lam_ratio"][i],
                           "lasso_mse": final.mse[i], "trivial_mse": trivial[i]}


def trivial_table(rows: list[dict]) -> str:
    """Markdown: per (set, operator, σ, basis) the mean MSE of Lasso and of the trivial estimate, and how many
    images Lasso loses (by more than 0.2 %) with the worst ratio."""
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["set"], r["operator"], float(r["noise"]), r["basis"]), []).append(r)
    lines = ["| images | operator | σ | basis | Lasso (default λ) | trivial | Lasso ÷ trivial (mean) | images lost "
             "| worst ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for (set_name, operator, noise, basis), group in groups.items():
        lasso = np.array([float(r["lasso_mse"]) for r in group])
        trivial = np.array([float(r["trivial_mse"]) for r in group])
        ratio = lasso / np.maximum(trivial, 1e-12)
        lines.append(f"| {set_name} ({len(group)}) | {operator} | {noise:g} | {basis} | {lasso.mean():.5f} | "
                     f"{trivial.mean():.5f} | {lasso.mean() / trivial.mean():.2f} | {int((ratio > 1.002).sum())} | "
                     f"{ratio.max():.3f} |")
    return "\n".join(lines)
