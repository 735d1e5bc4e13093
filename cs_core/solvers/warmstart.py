"""Phase 1 of the range-extending methods: plain CSGM, run by the ``csgm`` solver itself.

The methods that go beyond the generator's range (Sparse-Gen, fine-tuning, intermediate-layer
search) start where CSGM ends. ``csgm_phase`` runs the ``csgm`` generator unchanged with the prior's
settings, streams its snapshots under the new method's name (``extra["stage"]`` "phase 1/2: CSGM …",
``extra["phase"]`` "csgm"), and returns
CSGM's final snapshot and the latent to continue from: among the latents CSGM fed the generator at
its last step (every restart of every image), the one with the lowest ‖y_b − A G(z)‖² for image b.
"""
from dataclasses import dataclass

import torch

from ..priors import PRIORS
from ..problem import Problem
from .csgm import CSGMSettings, csgm
from .snapshot import Snapshot


@dataclass
class PhaseOne:
    final: Snapshot          # CSGM's own final snapshot
    z: torch.Tensor | None   # (B, latent_dim): the latent each image continues from; None if CSGM diverged
    generator: torch.nn.Module  # the shared, frozen prior (never modified)


class LatentRecorder(torch.nn.Module):
    """Wraps a generator and remembers the last latents it was called with."""

    def __init__(self, generator: torch.nn.Module):
        super().__init__()
        self.generator = generator
        self.last = None

    def forward(self, z):
        self.last = z.detach()
        return self.generator(z)


def csgm_settings(prior_name: str, options) -> CSGMSettings:
    """The registry's CSGM settings: the prior's defaults, overridden by ``options``."""
    d = PRIORS[prior_name].defaults
    return CSGMSettings(steps=d.steps if options.iterations is None else options.iterations,
                        lr=d.lr if options.lr is None else options.lr,
                        restarts=options.restarts or d.restarts,
                        lam=d.lam if options.csgm_lam is None else options.csgm_lam,
                        optimiser=d.optimiser, prune_after=d.prune_after, patience=d.patience)


def phase_two_steps(default: int, options) -> int:
    """Phase 2 runs its default steps; a user's ``options.iterations`` (phase 1's steps) also caps phase 2."""
    return default if options.iterations is None else min(default, options.iterations)


def best_latents(problem: Problem, generator: torch.nn.Module, candidates: torch.Tensor) -> torch.Tensor:
    """For each image b, the candidate latent with the lowest ‖y_b − A G(z)‖², shape (B, latent_dim)."""
    with torch.no_grad():
        ax = problem.operator.A(generator(candidates))                       # (N, m)
        distances = torch.cdist(problem.y, ax) ** 2                          # (B, N)
    return candidates[distances.argmin(1)]


def csgm_phase(problem: Problem, prior_name: str, settings: CSGMSettings, every: int | None, method: str,
               phases: int = 2):
    """Run CSGM, yielding its snapshots relabelled (never its final one); return a :class:`PhaseOne`."""
    generator = PRIORS[prior_name].load(problem.device)
    recorder = LatentRecorder(generator)
    final = None
    for snap in csgm(problem, recorder, PRIORS[prior_name].latent_dim, settings, every, method=method):
        final = snap
        if not snap.final:
            snap.extra["stage"] = f"phase 1/{phases}: CSGM (z only)"
            snap.extra["phase"] = "csgm"
            yield snap
    candidates = recorder.last.reshape(-1, PRIORS[prior_name].latent_dim)
    if final.message or not torch.isfinite(candidates).all():  # CSGM diverged: its final snapshot is the answer
        return PhaseOne(final, None, generator)
    return PhaseOne(final, best_latents(problem, generator, candidates), generator)


def then(problem: Problem, prior_name: str, settings: CSGMSettings, every, method: str, phase_two):
    """CSGM (phase 1), then ``phase_two(generator, z, first_iteration=…, seconds=…)`` from its best latent; the
    prior is loaded (and fails) before the first snapshot. If CSGM diverged, its final snapshot ends the run."""
    PRIORS[prior_name].load(problem.device)

    def stream():
        phase = yield from csgm_phase(problem, prior_name, settings, every, method)
        if phase.z is None:
            yield phase.final
            return
        yield from phase_two(phase.generator, phase.z, first_iteration=phase.final.iteration,
                             seconds=phase.final.seconds)
    return stream()
