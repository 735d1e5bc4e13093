"""Per-image generator fine-tuning (in the spirit of IAGAN, Abu Hussein, Tirer, Giryes 2020).

    minimise_{z,θ}  ‖y − A G_θ(z)‖² + λ‖z‖²,    x̂ = G_θ̂(ẑ)

Phase 1 is plain CSGM with the shared, frozen prior G_θ₀. Phase 2 gives each image its own deep copy
of the generator (BatchNorm kept in eval mode, so its running statistics never change) and moves z and
that copy's weights θ jointly with Adam, a small learning rate on θ; the number of phase-2 steps is
the regulariser (early stopping), chosen on validation. The shared prior is never touched: other
requests keep getting θ₀.
"""
import copy
from dataclasses import dataclass, replace

import torch

from ..problem import Problem
from .snapshot import StopWatch, make_snapshot, wants_snapshot
from .warmstart import csgm_settings, phase_two_steps, then


@dataclass
class FinetuneSettings:
    # steps and weights' rate: validation's choice for the faces at m = 2500, σ = 0.01 (docs/RESULTS.md)
    steps: int = 50              # phase-2 steps
    lr_z: float = 0.01           # Adam on z
    lr_weights: float = 3e-4     # Adam on the copy's weights
    lam_z: float = 0.001         # λ (the prior's CSGM λ)


def private_copy(generator: torch.nn.Module) -> torch.nn.Module:
    """A trainable copy of ``generator`` that shares no storage with it (eval mode kept)."""
    clone = copy.deepcopy(generator)
    clone.eval().requires_grad_(True)
    return clone


def finetune(problem: Problem, generator: torch.nn.Module, z0: torch.Tensor, settings: FinetuneSettings,
             every: int | None = None, method: str = "finetune", first_iteration: int = 0,
             seconds: float = 0.0, stage: str = "phase 2/2: z and the generator's weights"):
    """Yield snapshots of phase 2 from the latents ``z0`` (B, latent_dim); image b trains its own copy."""
    op, y = problem.operator, problem.y
    batch = y.shape[0]
    watch = StopWatch(problem.device)
    watch.seconds = seconds
    watch.start()
    copies = [private_copy(generator) for _ in range(batch)]
    zs = [z0[b:b + 1].detach().clone().requires_grad_(True) for b in range(batch)]
    optimisers = [torch.optim.Adam([{"params": [z], "lr": settings.lr_z},
                                    {"params": list(g.parameters()), "lr": settings.lr_weights}])
                  for z, g in zip(zs, copies)]

    def evaluate(b):
        x = copies[b](zs[b])
        measurement = ((op.A(x) - y[b:b + 1]) ** 2).sum()
        return x, measurement, measurement + settings.lam_z * (zs[b] ** 2).sum()

    for step in range(1, settings.steps + 1):
        for b in range(batch):
            _, _, objective = evaluate(b)
            optimisers[b].zero_grad(set_to_none=True)
            objective.backward()
            optimisers[b].step()
        final = step == settings.steps
        if final or wants_snapshot(step, every):
            with torch.no_grad():
                xs, measurements, objectives = zip(*(evaluate(b) for b in range(batch)))
            seconds = watch.stop()
            drift = [sum((p - q).pow(2).sum() for p, q in zip(g.parameters(), generator.parameters())).sqrt().item()
                     for g in copies]
            yield make_snapshot(method, first_iteration + step, torch.cat(xs), [m.item() for m in measurements],
                                [o.item() for o in objectives], seconds, problem.truth, final=final, stage=stage,
                                phase="finetune", weight_drift=drift)
            watch.start()


def start(prior_name: str, defaults: FinetuneSettings = FinetuneSettings()):
    """The registry's ``finetune-<prior>``: CSGM (``options`` as for CSGM), then phase 2."""
    def run(problem, options, every):
        settings = csgm_settings(prior_name, options)
        phase2 = replace(defaults, steps=phase_two_steps(defaults.steps, options), lam_z=settings.lam)
        method = f"finetune-{prior_name}"
        return then(problem, prior_name, settings, every, method,
                    lambda generator, z, **at: finetune(problem, generator, z, phase2, every, method, **at))
    return run
