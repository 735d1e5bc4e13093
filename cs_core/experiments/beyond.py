"""The beyond-the-range measurement: CSGM once per (image set, m), every phase-2 method from its result.

Phase 1 (CSGM at the prior's ``paper`` settings, as in the faces sweeps; each image measured and solved alone
from its own image seed, ``splits.image_seed``, as there) is cached
per (set, m) in ``<out>/phase1/`` (latents and CSGM's metrics), so the validation grids and every method
reuse it; each method's phase 2 is deterministic from there, exactly what the registry method computes on
the same batch. A phase-2 method's hyper-parameter and step count are chosen on the validation sets
(``splits``), then the real photos and the in-range faces are reported.
"""
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..bases import BASES
from ..domains import get_domain
from ..priors import PRIORS
from ..problem import make_problem
from ..session import run_to_end
from ..solvers.finetune import FinetuneSettings, finetune
from ..solvers.ilo import ILOSettings, ilo
from ..solvers.sparsegen import SparseGenSettings, sparse_gen
from ..solvers.warmstart import csgm_phase
from .figure import plot_error_vs_m, summarise
from .paper import settings_of, sweep
from .splits import check_image_seeds, image_seed, image_seeds, image_set
from .table import RESULT_FIELDS, VALIDATION_FIELDS, append_rows, key_of, read_rows

PRIOR = "dcgan"
CSGM = f"csgm-{PRIOR}"
PHASE_ONE = settings_of(PRIORS[PRIOR].paper)


@dataclass(frozen=True)
class Tuned:
    """A phase-2 method: its solver and settings, the hyper-parameter validation chooses (with the step count)
    and its grid."""
    solver: Callable  # (problem, generator, z0, settings=, every=, method=) → snapshots
    settings: object
    hyper: str
    grid: tuple[float, ...]
    steps: int = 200        # longest phase 2 tried; validation picks the step count every ``every`` steps
    every: int = 50


TUNED = {
    "sparse-gen-dcgan": Tuned(partial(sparse_gen, basis=BASES["wavelet"]), SparseGenSettings(lam_z=PHASE_ONE.lam),
                              "nu_ratio", (0.01, 0.03, 0.1, 0.3)),
    "ilo-dcgan": Tuned(ilo, ILOSettings(), "radius", (0.05, 0.2, 0.8)),
    "finetune-dcgan": Tuned(finetune, FinetuneSettings(lam_z=PHASE_ONE.lam), "lr_weights", (3e-5, 3e-4)),
}
VALIDATION_COUNT = {"val-real": 8, "val-inrange": 4}
INRANGE_SLACK = 1.05  # on the in-range validation faces, a choice may lose at most 5 % against CSGM


def measures(method: str) -> bool:
    return method == CSGM or method.startswith("lasso-") or method in TUNED


def problems(source: str, m: int, noise: float, seed: int, device: torch.device, count: int | None = None):
    """([name], problem) per image of the set, measured from its image seed as the faces sweep measures it."""
    data = image_set(source, count)
    for i, name in enumerate(data.names):
        yield [name], make_problem(data.images[i:i + 1], get_domain("faces"), "gaussian", {"m": m}, noise,
                                   image_seed(seed, source, i), device)


def phase_one_path(source: str, m: int, noise: float, seed: int, out: Path) -> Path:
    return Path(out) / "phase1" / f"{source}-m{m}-noise{noise:g}-seed{seed}.pt"


def cached_phase_one(source: str, m: int, noise: float, seed: int, out: Path, count: int | None) -> dict | None:
    """Phase one as cached in ``<out>/phase1/`` when the cache holds at least ``count`` images (all: None), each
    measured from its image seed, else None."""
    path = phase_one_path(source, m, noise, seed, out)
    if path.exists():
        cached = torch.load(path, weights_only=True)
        if (count is None or len(cached["names"]) >= count) and \
                cached.get("seeds") == image_seeds(seed, source, len(cached["names"])):
            return cached
    return None


def save_phase_one(result: dict, source: str, m: int, noise: float, seed: int, out: Path) -> None:
    path = phase_one_path(source, m, noise, seed, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(result, path)


def phase_one(source: str, m: int, noise: float, seed: int, device: torch.device, out: Path,
              count: int | None = None) -> dict:
    """CSGM's latents and metrics for every image of ``source`` at ``m`` (computed once, then read back)."""
    cached = cached_phase_one(source, m, noise, seed, out, count)
    if cached is not None:
        return cached
    result = compute_phase_one(source, m, noise, seed, device, count)
    save_phase_one(result, source, m, noise, seed, out)
    return result


def compute_phase_one(source: str, m: int, noise: float, seed: int, device: torch.device,
                      count: int | None = None) -> dict:
    """CSGM at the prior's ``paper`` settings on the first ``count`` images of ``source``: names, image seeds,
    latents z and metrics per image."""
    names, zs, rows = [], [], {"mse": [], "psnr": [], "ssim": [], "seconds": [], "iterations": []}
    for chunk, problem in problems(source, m, noise, seed, device, count):
        run = csgm_phase(problem, PRIOR, PHASE_ONE, None, CSGM)
        try:
            while True:
                next(run)
        except StopIteration as done:
            phase = done.value
        names += chunk
        zs.append(phase.z.cpu())
        for key in ("mse", "psnr", "ssim"):
            rows[key] += getattr(phase.final, key)
        rows["seconds"] += [phase.final.seconds / len(chunk)] * len(chunk)
        rows["iterations"] += [phase.final.iteration] * len(chunk)
    return {"names": names, "seeds": image_seeds(seed, source, len(names)), "z": torch.cat(zs), **rows}


def phase_two(method: str, problem, z0: torch.Tensor, value, steps: int, every: int | None):
    """The method's phase-2 snapshots from ``z0`` with its hyper-parameter at ``value`` (a float or one per image)."""
    tuned = TUNED[method]
    settings = replace(tuned.settings, steps=steps, **{tuned.hyper: value})
    return tuned.solver(problem, PRIORS[PRIOR].load(problem.device), z0.to(problem.device), settings=settings,
                        every=every, method=method)


def _repeat(problem, times: int):
    return replace(problem, y=problem.y.repeat(times, 1), truth=problem.truth.repeat(times, 1, 1, 1))


def validation_errors(method: str, m: int, noise: float, seed: int, device: torch.device, out: Path,
                      firsts: dict | None = None) -> list[dict]:
    """Mean validation MSE of every (grid value, step count) on both validation sets, plus CSGM's (steps 0);
    ``firsts``: each validation set's phase one, else ``phase_one``'s."""
    tuned = TUNED[method]
    rows = []
    for source in ("val-real", "val-inrange"):
        count = VALIDATION_COUNT[source]
        first = firsts[source] if firsts else phase_one(source, m, noise, seed, device, out, count)
        rows.append({"method": method, "m": m, "source": source, "value": "", "steps": 0,
                     "mse": float(np.mean(first["mse"][:count]))})
        errors: dict = {}
        offset = 0
        for names, problem in problems(source, m, noise, seed, device, count):
            z0 = first["z"][offset:offset + len(names)]
            offset += len(names)
            batched = method != "finetune-dcgan"  # grid values batched as extra images, except fine-tuning's lr
            runs = [(tuned.grid, _repeat(problem, len(tuned.grid)), z0.repeat(len(tuned.grid), 1),
                     torch.tensor(tuned.grid).repeat_interleave(len(names)))] if batched else \
                [((v,), problem, z0, v) for v in tuned.grid]
            for values, prob, z, value in runs:
                for snap in phase_two(method, prob, z, value.to(device) if torch.is_tensor(value) else value,
                                      tuned.steps, tuned.every):
                    per_value = np.asarray(snap.mse).reshape(len(values), len(names))
                    for v, errs in zip(values, per_value):
                        errors.setdefault((v, snap.iteration), []).extend(errs.tolist())
        rows += [{"method": method, "m": m, "source": source, "value": v, "steps": s, "mse": float(np.mean(e))}
                 for (v, s), e in sorted(errors.items())]
    return rows


def choose(rows: list[dict]) -> dict:
    """The (value, steps) with the lowest mean MSE on ``val-real`` among those whose ``val-inrange`` mean is
    within ``INRANGE_SLACK`` of CSGM's there, CSGM itself (steps 0, no phase 2) included."""
    inrange = {(r["value"], r["steps"]): r["mse"] for r in rows if r["source"] == "val-inrange"}
    real = {(r["value"], r["steps"]): r["mse"] for r in rows if r["source"] == "val-real"}
    limit = INRANGE_SLACK * inrange[("", 0)]
    allowed = [key for key in real if key[1] == 0 or inrange[key] <= limit]
    value, steps = min(allowed, key=real.get)
    return {"value": value, "steps": steps}


def recorded_validation(method: str, m: int, noise: float, seed: int, out: Path) -> list[dict]:
    """The rows of ``<out>/validation.csv`` for (method, m, σ, seed); none when they are still to compute. A row's
    ``seed`` is its validation set's first image seed (image j's is that + j)."""
    return [r for r in read_rows(Path(out) / "validation.csv") if r["method"] == method and int(r["m"]) == m
            and float(r["noise"]) == noise and int(r["seed"]) == image_seed(seed, r["source"], 0)]


def validation_rows(method: str, m: int, noise: float, seed: int, device: torch.device, out: Path,
                    firsts: dict | None = None) -> list[dict]:
    """``validation_errors`` as rows of ``validation.csv``."""
    return [{**r, "noise": noise, "seed": image_seed(seed, r["source"], 0)}
            for r in validation_errors(method, m, noise, seed, device, out, firsts)]


def tune(method: str, m: int, noise: float, seed: int, device: torch.device, out: Path) -> dict:
    """Validation's choice for (method, m), read from ``<out>/validation.csv`` or computed and appended."""
    rows = recorded_validation(method, m, noise, seed, out)
    if not rows:
        rows = validation_rows(method, m, noise, seed, device, out)
        append_rows(Path(out) / "validation.csv", VALIDATION_FIELDS, rows)
    return choice_of(rows)


def choice_of(rows: list[dict]) -> dict:
    """``choose`` on validation rows as read from the CSV (strings) or as computed."""
    parsed = [{"source": r["source"], "value": "" if r["value"] == "" else float(r["value"]), "steps": int(r["steps"]),
               "mse": float(r["mse"])} for r in rows]
    return choose(parsed)


def _row(source, method, m, name, noise, seed, value, mse, psnr, ssim, seconds, iterations,
         operator: str = "gaussian") -> dict:
    return {"domain": "faces", "source": source, "method": method, "m": m, "image": name, "noise": noise, "seed": seed,
            "lam_ratio": value, "mse": mse, "psnr": psnr, "ssim": ssim, "seconds": seconds, "iterations": iterations,
            "operator": operator}


def method_rows(method: str, source: str, m: int, noise: float, seed: int, device: torch.device, out: Path,
                count: int | None, choice: dict | None, first: dict | None = None) -> list[dict]:
    """One row per image of ``source``: CSGM from phase one (``first``, else ``phase_one``'s), a phase-2 method
    at validation's choice (CSGM's own rows when validation chose no phase 2), Lasso by the faces sweep."""
    if method.startswith("lasso-"):
        return list(sweep("faces", [method], [m], source, count, noise, seed, device))
    first = first or phase_one(source, m, noise, seed, device, out, count)
    names = first["names"][:count] if count else first["names"]
    if method == CSGM or choice["steps"] == 0:
        return [_row(source, method, m, name, noise, first["seeds"][i], "", first["mse"][i], first["psnr"][i],
                     first["ssim"][i], first["seconds"][i], first["iterations"][i]) for i, name in enumerate(names)]
    rows, offset = [], 0
    for chunk, problem in problems(source, m, noise, seed, device, count):
        z0 = first["z"][offset:offset + len(chunk)]
        *_, final = phase_two(method, problem, z0, choice["value"], choice["steps"], None)
        for j, name in enumerate(chunk):
            i = offset + j
            rows.append(_row(source, method, m, name, noise, first["seeds"][i], choice["value"], final.mse[j],
                             final.psnr[j], final.ssim[j], first["seconds"][i] + final.seconds / len(chunk),
                             first["iterations"][i] + final.iteration))
        offset += len(chunk)
    return rows


def oracle_rows(source: str, seed: int, device: torch.device, out: Path, count: int | None) -> list[dict]:
    """The oracle's closest G(z) per image (``<out>/oracle.csv``; the oracle measures nothing, so m, σ and
    the operator are blank)."""
    path = Path(out) / "oracle.csv"
    rows = [r for r in read_rows(path) if r["source"] == source]
    check_image_seeds(rows, path)
    if rows:
        return rows
    rows = compute_oracle(source, seed, device, count)
    append_rows(path, RESULT_FIELDS, rows)
    return rows


def compute_oracle(source: str, seed: int, device: torch.device, count: int | None) -> list[dict]:
    """The oracle's rows for the first ``count`` images of ``source``."""
    method, rows = f"oracle-{PRIOR}", []
    for (name,), problem in problems(source, 1, 0.0, seed, device, count):
        final = run_to_end(problem, [method])[method]
        rows.append(_row(source, method, "", name, "", problem.seed, "", final.mse[0], final.psnr[0], final.ssim[0],
                         final.seconds, final.iteration, operator=""))
    return rows


def run(methods: list[str], ms: list[int], inrange: int, noise: float, seed: int, device: torch.device, out: Path,
        progress=print) -> list[dict]:
    """The whole measurement, resumable: per m, validation's choice for each phase-2 method, then rows for the
    real photos and the first ``inrange`` in-range faces; ``<out>/results.csv``, ``oracle.csv``, figure
    (``beyond_tasks.run_on``: the same on Dask)."""
    out = Path(out)
    path = out / "results.csv"
    rows = read_rows(path)
    check_image_seeds(rows, path)
    done = {(r["source"], r["method"], int(r["m"])) for r in rows}
    for m in ms:
        for method in methods:
            choice = tune(method, m, noise, seed, device, out) if method in TUNED else None
            for source, count in (("real", None), ("inrange", inrange)):
                if (source, method, m) in done or not count and source == "inrange":
                    continue
                new = method_rows(method, source, m, noise, seed, device, out, count, choice)
                append_rows(path, RESULT_FIELDS, new)
                rows += new
                progress(f"{method} m={m} {source}: mean MSE {np.mean([float(r['mse']) for r in new]):.5f}"
                         + (f" (choice {choice})" if choice else ""))
    for source, count in (("real", None), ("inrange", inrange)):
        if count != 0:
            oracle_rows(source, seed, device, out, count)
    figure(out)
    return rows


def results(out: Path) -> list[dict]:
    """The rows of ``<out>/results.csv``, one per (source, method, m, image): runs of different m side by side
    may both have written a (deterministic, identical) row."""
    unique = {}
    for r in read_rows(Path(out) / "results.csv"):
        unique.setdefault(key_of(r), r)
    return list(unique.values())


def summary_tables(out: Path) -> str:
    """Markdown: mean MSE per (source, method, m) with the ratios the goal is stated in, validation's choices,
    and the oracle's floor."""
    rows = results(out)
    means: dict = {}
    for r in rows:
        means.setdefault((r["source"], r["method"], int(r["m"])), []).append(float(r["mse"]))
    chosen = {(r["method"], int(r["m"])): r["lam_ratio"] for r in rows if r["method"] in TUNED and r["source"] == "real"}
    lines = []
    for source in ("real", "inrange"):
        methods = sorted({k[1] for k in means if k[0] == source})
        ms = sorted({k[2] for k in means if k[0] == source})
        if not methods:
            continue
        n = max(len(v) for k, v in means.items() if k[0] == source)
        lines += [f"\n{source} (n = {n}): mean per-pixel MSE; in brackets ÷ CSGM, and for the real photos"
                  " ÷ the better of CSGM and Lasso-wavelet", "",
                  "| m | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
        for m in ms:
            csgm = np.mean(means.get((source, CSGM, m), [np.nan]))
            best = min(csgm, np.mean(means.get((source, "lasso-wavelet", m), [np.inf])))
            cells = []
            for method in methods:
                values = means.get((source, method, m))
                if values is None:
                    cells.append("")
                    continue
                mean = float(np.mean(values))
                ratio = f" ({mean / csgm:.2f}" + (f"; {mean / best:.2f})" if source == "real" else ")")
                cells.append(f"{mean:.4f}" + ("" if method == CSGM else ratio))
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    if chosen:
        lines += ["", f"validation's choice (value, phase-2 steps as 'iterations' − {PHASE_ONE.steps} in results.csv): "
                  + "; ".join(f"{method} m={m}: {value or 'CSGM (no phase 2)'}" for (method, m), value in sorted(chosen.items()))]
    oracle = read_rows(Path(out) / "oracle.csv")
    if oracle:
        lines += ["", "oracle (closest G(z) found for x*): "
                  + ", ".join(f"{r['image']} {float(r['mse']):.4f}" for r in oracle)]
    return "\n".join(lines)


def figure(out: Path) -> Path:
    """``<out>/figure.png``: mean MSE vs m per method, real photos and in-range faces side by side, with the
    oracle's mean (the prior's representation error) as a dashed line."""
    out = Path(out)
    floors: dict = {}
    for r in read_rows(out / "oracle.csv"):
        floors.setdefault(r["source"], []).append(float(r["mse"]))
    return plot_error_vs_m(summarise(results(out)), out / "figure.png",
                           {"real": "real photos (off the range)", "inrange": "in-range faces G(z)"},
                           "Beyond the generator's range: Gaussian A, σ = 0.01, hyper-parameters chosen on validation",
                           floors, ylabel="mean per-pixel MSE (pixels in [0, 1])")
