"""CSGM-DCGAN, faces, Gaussian m = 500, σ = 0.01, truth G(z) (in the range of G).

:func:`reference_csgm`, the plain PyTorch port of the original (Adam over z, one restart at a time, the
prior's ``paper`` settings), against our ``csgm`` with the same settings and starts, restarts batched
("before"), and ``csgm`` with the prior's default settings (batched L-BFGS from more starts, pruned, stopped
early: "after"), every run minimising the same ‖y − A G(z)‖² + λ‖z‖² at the paper's λ. Reported: total
times, and the time each needs to reach the reference's final measurement loss (and MSE), within
``CSGM_MATCH``.
"""
import math
import time
from dataclasses import dataclass, field, fields, replace

import torch

from ...priors import PRIORS
from ...problem import SOLVER_STREAM, Problem, stream
from ...solvers.csgm import CSGMSettings, csgm
from ..paper import settings_of
from .common import FACE_SEED, FACES_M, FACES_NOISE, BenchSettings, median, ratio, sync

CSGM_MATCH = 1e-3          # "reached the reference's loss": within 0.1 %


@dataclass
class Reference:
    seconds: float
    measurement_loss: float
    mse: float


@dataclass
class Run:
    seconds: float
    steps: int
    to_reference_loss_s: float | None
    to_reference_mse_s: float | None
    measurement_loss: float
    mse: float


@dataclass
class CSGMBench:
    setting: dict
    reference: Reference
    ours: Run
    after: Run
    samples: dict
    speedup_total: float | None = field(init=False)
    speedup_to_reference_loss: float | None = field(init=False)
    after_speedup_total: float | None = field(init=False)
    after_speedup_to_reference_loss: float | None = field(init=False)

    def __post_init__(self):
        seconds = self.reference.seconds
        self.speedup_total = ratio(seconds, self.ours.seconds)
        self.speedup_to_reference_loss = ratio(seconds, self.ours.to_reference_loss_s)
        self.after_speedup_total = ratio(seconds, self.after.seconds)
        self.after_speedup_to_reference_loss = ratio(seconds, self.after.to_reference_loss_s)


def medians(runs: list):
    """The field-by-field median of several runs of one dataclass."""
    return type(runs[0])(**{f.name: median([getattr(r, f.name) for r in runs]) for f in fields(runs[0])})


def initial_latents(problem: Problem, restarts: int, latent_dim: int) -> torch.Tensor:
    """The starts ``csgm`` draws: (B, restarts, latent_dim) from the problem's solver stream."""
    return torch.randn((problem.batch, restarts, latent_dim), generator=stream(problem.seed, SOLVER_STREAM))


def reference_csgm(problem: Problem, generator: torch.nn.Module, z0: torch.Tensor, settings: CSGMSettings) -> Reference:
    """The original's loop, ported plainly: for each restart in turn, Adam on
    ‖y − A G(z)‖² + λ‖z‖² from its own start; keep the restart whose final z has the lowest
    measurement loss. ``z0`` is (restarts, latent_dim) for the problem's single image.
    Returns the final measurement loss, MSE and seconds (CUDA synchronised)."""
    y, op, device = problem.y, problem.operator, problem.device
    sync(device)
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
    sync(device)
    seconds = time.perf_counter() - start
    return Reference(seconds, best_loss, ((best_x.clamp(0, 1) - problem.truth) ** 2).mean().item())


def ours(problem: Problem, generator: torch.nn.Module, settings: CSGMSettings, latent_dim: int,
         reference: Reference) -> Run:
    """Our solver with a snapshot every step, and when it first reached the reference's loss and MSE."""
    trace = [(s.seconds, s.measurement_loss[0], s.mse[0])
             for s in csgm(problem, generator, latent_dim, settings, every=1, method="csgm-dcgan")]

    def first(index: int, target: float):
        return next((row[0] for row in trace if row[index] <= target), None)
    return Run(trace[-1][0], len(trace), first(1, reference.measurement_loss * (1 + CSGM_MATCH)),
               first(2, reference.mse * (1 + CSGM_MATCH)), trace[-1][1], trace[-1][2])


def bench_csgm(problem: Problem, repeats: int, settings: BenchSettings) -> CSGMBench:
    """The reference loop and ``csgm`` at the paper's settings ("before"), and ``csgm`` at the prior's defaults
    ("after"), side by side, all at the paper's λ so that they minimise one objective."""
    prior = PRIORS["dcgan"]
    paper = settings_of(prior.paper)
    before = replace(paper, steps=settings.csgm_steps or paper.steps)
    after = replace(settings_of(prior.defaults), lam=paper.lam, steps=settings.csgm_steps or prior.defaults.steps)
    generator = prior.load(problem.device)
    z0 = initial_latents(problem, before.restarts, prior.latent_dim)[0]
    runs = []
    for _ in range(repeats):
        ref = reference_csgm(problem, generator, z0, before)
        runs.append((ref, ours(problem, generator, before, prior.latent_dim, ref),
                     ours(problem, generator, after, prior.latent_dim, ref)))
    references, befores, afters = zip(*runs)
    return CSGMBench(
        setting={"domain": "faces", "operator": "gaussian", "m": FACES_M, "noise": FACES_NOISE,
                 "truth": f"G(z), sampling seed {FACE_SEED}", "steps": before.steps, "restarts": before.restarts,
                 "lr": before.lr, "lam": before.lam, "match": CSGM_MATCH,
                 "after": {"steps": after.steps, "restarts": after.restarts, "lr": after.lr,
                           "optimiser": after.optimiser, "prune_after": after.prune_after,
                           "patience": after.patience}},
        reference=medians(references), ours=medians(befores), after=medians(afters),
        samples={"reference_s": [r.seconds for r in references], "ours_s": [r.seconds for r in befores],
                 "after_s": [r.seconds for r in afters]})
