"""Lasso's default per-image λ rule against each operator's trivial estimate (zero-filled, upsampled, blurred,
least-norm) on the same measurements: the operator presets below (gaussian at m = n/8), the bases per domain,
on the domain's whole gallery and on its validation images, each image measured alone from its image seed
(``splits.image_seed``, the set as the split)."""
from typing import Iterator

import numpy as np
import torch

from ..assets import list_assets
from ..bases import BASES
from ..domains import get_domain
from ..images import load_image
from ..metrics import all_metrics
from ..problem import make_problem
from ..solvers.lasso import LassoSettings, fista
from .splits import ImageSet, image_seed, validation_images
from .table import describe_operator

TRIVIAL_PRESETS = (("superres", {"factor": 2}), ("superres", {"factor": 4}), ("inpaint", {"mask": "center"}),
                   ("inpaint", {"mask": "random", "keep": 0.3}), ("fourier", {"accel": 4}), ("blur", {}),
                   ("gaussian", None))
TRIVIAL_BASES = {"mnist": ("pixel", "dct", "wavelet"), "faces": ("dct", "wavelet")}


def against_trivial(domain: str, noise: float, seed: int, device: torch.device) -> Iterator[dict]:
    """One row per (image set, operator preset, basis, image): Lasso with its default per-image λ rule (and the
    default step) against ``operator.trivial`` on the same y; image i of a set is measured from
    ``image_seed(seed, set, i)``."""
    dom = get_domain(domain)
    gallery = list_assets(domain)
    validation = validation_images(domain)
    sets = {"gallery": ImageSet([a.name for a in gallery], torch.cat([load_image(a.path, dom) for a in gallery])),
            "validation": ImageSet([f"validation-{i}" for i in range(len(validation))], validation)}
    for set_name, data in sets.items():
        for operator, params in TRIVIAL_PRESETS:
            params = {"m": dom.n // 8} if params is None else params
            for i, name in enumerate(data.names):
                drawn = image_seed(seed, set_name, i)
                problem = make_problem(data.images[i:i + 1], dom, operator, params, noise, drawn, device)
                trivial = all_metrics(problem.operator.trivial(problem.y).cpu(), problem.truth.cpu())["mse"][0]
                for basis in TRIVIAL_BASES[domain]:
                    *_, final = fista(problem, BASES[basis], LassoSettings())
                    yield {"domain": domain, "set": set_name, "operator": describe_operator(operator, params),
                           "basis": basis, "noise": noise, "image": name, "seed": drawn, "lam_ratio": final.extra["lam_ratio"][0],
                           "lasso_mse": final.mse[0], "trivial_mse": trivial}


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
