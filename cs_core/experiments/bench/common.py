"""What every section of the bench shares: the problem, the settings, medians and ratios."""
import statistics
from dataclasses import dataclass

import torch

from ...domains import get_domain
from ...problem import Problem, make_problem
from ..splits import EVAL_SEED

FACE_SEED = EVAL_SEED      # the truth: the first reported in-range face G(z), never in the gallery
PROBLEM_SEED = 0           # seed of A, the noise and the CSGM starts
FACES_M, FACES_NOISE = 500, 0.01  # the paper's celebA noise
SNAPSHOT_EVERY = 5
SKLEARN_TOLS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6, 1e-7, 1e-8)
BATCH_IMAGES = 16          # the batched FISTA row: faces G(z) for FACE_SEED + 0..15, one A


@dataclass(frozen=True)
class BenchSettings:
    csgm_steps: int | None = None   # None: the prior's settings
    fista_cap: int = 2000           # FISTA iterations at most, when looking for F*
    fista_every: int = 1            # objective recorded every this many iterations in that search
    sklearn_tight_tol: float = 1e-8
    sklearn_max_iter: int = 100_000
    sklearn_tols: tuple[float, ...] = SKLEARN_TOLS  # the ladder of tolerances tried, loosest first
    batch_images: int = BATCH_IMAGES  # images in the batched FISTA row


FULL = BenchSettings()
QUICK = BenchSettings(csgm_steps=5, fista_cap=200, fista_every=10, sklearn_tight_tol=1e-4, sklearn_max_iter=20_000,
                      sklearn_tols=(1e-2, 1e-3, 1e-4), batch_images=2)


def sync(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median(values):
    """The median of the values that are not None (None when none is)."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(slow, fast):
    """slow ÷ fast, None where either time is missing."""
    return slow / fast if slow is not None and fast else None


def faces_truth(device: torch.device, count: int = 1) -> torch.Tensor:
    """G(z) for ``FACE_SEED`` + 0..count−1."""
    from ...priors.sampling import sample
    return torch.cat([sample("dcgan", FACE_SEED + i, device) for i in range(count)])


def faces_problem(device: torch.device, truth: torch.Tensor | None = None) -> Problem:
    """Faces, Gaussian m = 500, σ = 0.01, truth G(z) for ``FACE_SEED`` unless given."""
    truth = faces_truth(device) if truth is None else truth
    return make_problem(truth, get_domain("faces"), "gaussian", {"m": FACES_M}, FACES_NOISE, PROBLEM_SEED, device)
