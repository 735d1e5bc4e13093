"""Intermediate-layer search (in the spirit of ILO, Daras, Dean, Jalal, Dimakis 2021).

Write G = T ∘ H with H the first layers and T the rest. After CSGM's ẑ, search the intermediate
activation h instead of z, inside a ball around h₀ = H(ẑ):

    minimise_h  ‖y − A T(h)‖²   subject to  ‖h − h₀‖₂ ≤ ρ‖h₀‖₂,    x̂ = T(ĥ)

by Adam steps each followed by the projection onto the ball (h₀ + (h − h₀)·min(1, r/‖h − h₀‖)).
ρ = 0 is CSGM; ρ → ∞ is a generator with its first layers removed. ILO itself uses ℓ1 balls and
moves layer by layer; here one layer and an ℓ2 ball.
"""
from dataclasses import dataclass, replace

import torch

from ..priors.dcgan import FaceGenerator
from ..problem import Problem
from .snapshot import StopWatch, make_snapshot, wants_snapshot
from .warmstart import csgm_settings, phase_two_steps, then

# DCGAN: H = the first two ConvT–BN–ReLU blocks, h ∈ R^{256×8×8} (16,384 values, against 100 for z)
DCGAN_SPLIT = 6


@dataclass
class ILOSettings:
    # steps and radius: validation's choice for the faces at m = 2500, σ = 0.01 (docs/RESULTS.md)
    steps: int = 200                    # phase-2 steps
    lr: float = 0.01                    # Adam on h
    radius: float | torch.Tensor = 0.8  # ρ: the ball's radius relative to ‖h₀‖, or one per image (B,)


def split_generator(generator: torch.nn.Module, layer: int = DCGAN_SPLIT):
    """(H, T) with G(z) = T(H(z)) for the face DCGAN."""
    if not isinstance(generator, FaceGenerator):
        raise TypeError(f"intermediate-layer search knows how to split the face DCGAN, not {type(generator).__name__}")
    layers = generator.net.main

    def head(z):
        return layers[:layer](z.reshape(z.shape[0], -1, 1, 1))

    def tail(h):
        return (layers[layer:](h) + 1) / 2
    return head, tail


def project_ball(h: torch.Tensor, centre: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Projection of each h onto {‖h − centre‖₂ ≤ radius} (radius per image, shape (B,))."""
    offset = h - centre
    norm = offset.flatten(1).norm(dim=1).clamp_min(1e-12)
    scale = (radius / norm).clamp(max=1.0)
    return centre + offset * scale.reshape(-1, *([1] * (h.dim() - 1)))


def ilo(problem: Problem, generator: torch.nn.Module, z0: torch.Tensor, settings: ILOSettings,
        every: int | None = None, method: str = "ilo", first_iteration: int = 0, seconds: float = 0.0,
        stage: str = "phase 2/2: intermediate layer in a ball"):
    """Yield snapshots of phase 2 from the latents ``z0`` (B, latent_dim)."""
    op, y = problem.operator, problem.y
    batch = y.shape[0]
    watch = StopWatch(problem.device)
    watch.seconds = seconds
    watch.start()
    head, tail = split_generator(generator)
    with torch.no_grad():
        centre = head(z0)
    radius = torch.as_tensor(settings.radius, dtype=y.dtype, device=y.device).expand(batch) \
        * centre.flatten(1).norm(dim=1)
    h = centre.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([h], lr=settings.lr)

    def evaluate():
        x = tail(h)
        return x, ((op.A(x) - y) ** 2).sum(1)

    for step in range(1, settings.steps + 1):
        _, measurement = evaluate()
        optimiser.zero_grad(set_to_none=True)
        measurement.sum().backward()
        optimiser.step()
        with torch.no_grad():
            h.copy_(project_ball(h, centre, radius))
        final = step == settings.steps
        if final or wants_snapshot(step, every):
            with torch.no_grad():
                x, measurement = evaluate()
                distance = (h - centre).flatten(1).norm(dim=1) / centre.flatten(1).norm(dim=1).clamp_min(1e-12)
            seconds = watch.stop()
            yield make_snapshot(method, first_iteration + step, x, measurement.tolist(), measurement.tolist(), seconds,
                                problem.truth, final=final, stage=stage, phase="ilo",
                                relative_distance=distance.tolist())
            watch.start()


def start(prior_name: str, defaults: ILOSettings = ILOSettings()):
    """The registry's ``ilo-<prior>``: CSGM (``options`` as for CSGM), then phase 2."""
    def run(problem, options, every):
        settings = csgm_settings(prior_name, options)
        phase2 = replace(defaults, steps=phase_two_steps(defaults.steps, options))
        method = f"ilo-{prior_name}"
        return then(problem, prior_name, settings, every, method,
                    lambda generator, z, **at: ilo(problem, generator, z, phase2, every, method, **at))
    return run
