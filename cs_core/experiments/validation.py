"""The hyper-parameters a sweep chooses on the validation images (``splits.validation_images``), never on the
images it reports, per sweep point (domain, operator and its m or parameters, noise, seed). Validation image i
is measured alone with its own draw, ``image_seed(seed, "validation", i)``.

- Lasso's / TV's λ: ``ratio · λ_max`` with the ratio of ``LAMBDA_GRID`` that gives the lowest mean validation
  MSE; the ratios recorded by the published sweeps (docs/results) are reused instead of being recomputed.
- DIP's step count: DIP runs once per validation image for ``max(DIP_STEP_GRID)`` steps, its MSE read every
  ``DIP_EVERY`` steps; the count of ``DIP_STEP_GRID`` with the lowest mean MSE over the images is chosen. The
  MSE of each (validation image, count) is a row of the sweep's ``validation.csv`` (``VALIDATION_FIELDS``:
  method ``dip``, ``seed`` the image's seed, source ``validation``, ``value`` blank), from which a resumed
  sweep reads the choice.
"""
import functools
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ..bases import BASES
from ..domains import get_domain
from ..problem import Problem, make_problem
from ..session import run_methods
from ..solvers import Options
from ..solvers.lasso import LassoSettings, fista
from ..solvers.tv import TVSettings, tv
from .splits import image_seed, image_seeds, seed_parts, validation_images
from .table import RESULTS_DIR, VALIDATION_FIELDS, append_rows, describe_operator, key_of, read_rows, row_key

LAMBDA_GRID = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
# FISTA's step rule for every sweep, pinned: the published numbers (docs/RESULTS.md, docs/results) and their
# validation-chosen λ ratios were computed with the constant power-iteration step; the solver's default
# (working sets) reaches the same minimiser along another path, so its errors at a fixed iteration count differ
PUBLISHED_LASSO_STEP = "power"
DIP_STEP_GRID = tuple(range(250, 3001, 250))
DIP_EVERY = 250  # the validation run's snapshot spacing; every count of DIP_STEP_GRID is a multiple of it
VALIDATION_CSV = "validation.csv"


def validation_problems(domain: str, m: int, noise: float, seed: int, device: torch.device,
                        operator: str = "gaussian", params: tuple = (),
                        indices: list[int] | None = None) -> Iterator[tuple[int, Problem]]:
    """(image seed, problem) of each validation image (or of those at ``indices``), measured alone at the sweep
    point (m for gaussian, else ``params`` as sorted items)."""
    images = validation_images(domain)
    point = {"m": m} if operator == "gaussian" else dict(params)
    for i in range(len(images)) if indices is None else indices:
        drawn = image_seed(seed, "validation", i)
        yield drawn, make_problem(images[i:i + 1], get_domain(domain), operator, point, noise, drawn, device)


def choose_lambda_ratio(domain: str, method: str, m: int, noise: float, seed: int, device: torch.device,
                        operator: str = "gaussian", params: tuple = ()) -> float:
    """The ratio in LAMBDA_GRID with the lowest mean validation MSE for this Lasso/TV method and sweep point;
    every ratio is solved in one batch on each validation image's measurements."""
    grid = len(LAMBDA_GRID)
    ratios = torch.tensor(LAMBDA_GRID, device=device)
    errors = np.zeros(grid)
    for _, single in validation_problems(domain, m, noise, seed, device, operator, params):
        problem = replace(single, y=single.y.repeat(grid, 1), truth=single.truth.repeat(grid, 1, 1, 1))
        if method == "tv":
            *_, final = tv(problem, TVSettings(lam_ratio=ratios))
        else:
            settings = LassoSettings(lam_ratio=ratios, step=PUBLISHED_LASSO_STEP)
            *_, final = fista(problem, BASES[method.removeprefix("lasso-")], settings)
        errors += np.asarray(final.mse)
    return LAMBDA_GRID[int(errors.argmin())]


@functools.lru_cache(maxsize=1)
def published_lambda_ratios() -> dict[tuple, float]:
    """A result row's key with blank source and image and the sweep's seed (the ``seed`` of its image seed) → the
    ratio validation chose, as recorded in docs/results by rows measured each with their own image seed."""
    return {key_of({**r, "source": "", "image": "", "seed": seed_parts(r["seed"])[0]}): float(r["lam_ratio"])
            for path in sorted(RESULTS_DIR.glob("*/results.csv")) for r in read_rows(path)
            if r["lam_ratio"] and seed_parts(r["seed"])[1]}


@functools.lru_cache(maxsize=None)
def lambda_ratio(domain: str, method: str, m: int, noise: float, seed: int, device: torch.device,
                 operator: str = "gaussian", params: tuple = ()) -> float:
    """The validation rule's ratio: recorded by a published sweep if there is one, else chosen now (once per process)."""
    label = describe_operator(operator, dict(params))
    recorded = published_lambda_ratios().get(row_key(domain, "", method, m, "", noise, seed, label))
    return recorded if recorded is not None else choose_lambda_ratio(domain, method, m, noise, seed, device,
                                                                     operator, params)


def dip_validation_image(domain: str, m: int, noise: float, seed: int, device: torch.device, operator: str,
                         params: tuple, index: int) -> list[dict]:
    """The ``validation.csv`` rows of validation image ``index``: DIP's MSE at each count of DIP_STEP_GRID, read from
    one run of ``max(DIP_STEP_GRID)`` steps (DIP exactly as the sweep runs it, its other settings the defaults)."""
    (drawn, problem), = validation_problems(domain, m, noise, seed, device, operator, params, [index])
    rows = []
    for frame in run_methods(problem, ["dip"], Options(iterations=max(DIP_STEP_GRID)), DIP_EVERY):
        snap = frame.latest["dip"]
        if snap.iteration in DIP_STEP_GRID:
            rows.append({"method": "dip", "m": m, "noise": noise, "seed": drawn, "source": "validation", "value": "",
                         "steps": snap.iteration, "mse": snap.mse[0]})
    return rows


def recorded_dip_validation(key: tuple, out: Path | None) -> tuple[list[dict], list[int]]:
    """The rows of ``<out>/validation.csv`` for the sweep point ``key`` (``dip_validation_image``'s arguments but
    the index), and the indices of the validation images still without a row at every count."""
    domain, m, noise, seed = key[:4]
    seeds = image_seeds(seed, "validation", len(validation_images(domain)))
    wanted = {(s, steps) for s in seeds for steps in DIP_STEP_GRID}
    rows = [r for r in (read_rows(Path(out) / VALIDATION_CSV) if out else [])
            if r["method"] == "dip" and r["source"] == "validation" and int(r["m"]) == m
            and float(r["noise"]) == noise and (int(r["seed"]), int(r["steps"])) in wanted]
    found = {(int(r["seed"]), int(r["steps"])) for r in rows}
    return rows, [i for i, s in enumerate(seeds) if any((s, steps) not in found for steps in DIP_STEP_GRID)]


def dip_choice(*groups: list[dict]) -> int:
    """The count of DIP_STEP_GRID with the lowest mean MSE over the validation images in the rows of ``groups``
    (as read from the CSV or as computed; a (seed, count) found twice counts once)."""
    mse = {(int(r["seed"]), int(r["steps"])): float(r["mse"]) for rows in groups for r in rows}
    mean = {steps: np.mean([e for (_, s), e in mse.items() if s == steps]) for steps in DIP_STEP_GRID}
    return min(DIP_STEP_GRID, key=mean.get)


def dip_steps(key: tuple, out: Path | None = None) -> int:
    """Validation's DIP step count at the sweep point ``key``: the images recorded in ``<out>/validation.csv`` are
    read, the others run now (their rows appended as each finishes)."""
    recorded, todo = recorded_dip_validation(key, out)
    new = []
    for index in todo:
        new.append(dip_validation_image(*key, index))
        if out:
            append_rows(Path(out) / VALIDATION_CSV, VALIDATION_FIELDS, new[-1])
    return dip_choice(recorded, *new)
