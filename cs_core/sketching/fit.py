"""Training a generator by sketch matching, as a stream of snapshots.

.. math:: \\min_\\theta\\ \\Big\\|z_X - \\frac1B\\sum_{j=1}^B \\Phi\\big(G_\\theta(\\zeta_j)\\big)\\Big\\|_2^2,
          \\qquad \\zeta_j \\sim \\mathcal N(0, I)\\ \\text{fresh at every step},

with Adam (step size decayed from lr to lr/10 on a cosine): a Monte-Carlo estimate of the squared MMD between the data and G_θ's law for the kernel
κ(x, x′) = E_ω cos(ωᵀ(x − x′)) that Ω samples. The data are never seen, only their sketch z_X;
each snapshot adds an independent number: the energy distance between G_θ's samples and a
held-out split the sketch never summarised.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
from torch import nn

from ..errors import InputError
from .distance import energy_distance
from .sketch import Sketch, features

MAX_STEPS = 100_000
MAX_BATCH = 100_000


def mlp_generator(latent_dim: int, out_dim: int, width: int, depth: int, generator: torch.Generator) -> nn.Sequential:
    """ζ (B, latent_dim) → x (B, out_dim): ``depth`` dense layers of ``width`` with LeakyReLU(0.2), then a linear map.

    (The paper's toy generator is latent 10, 7 layers of 10 units.) Initialised from ``generator``.
    """
    sizes = [latent_dim] + [width] * depth
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
    layers.append(nn.Linear(sizes[-1], out_dim))
    net = nn.Sequential(*layers)
    with torch.no_grad():
        for layer in net:  # PyTorch's default bounds ±1/√fan_in, drawn from an explicit generator
            if isinstance(layer, nn.Linear):
                bound = 1 / layer.in_features ** 0.5
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
    return net


@dataclass(frozen=True)
class FitSettings:
    steps: int = 2000
    batch: int = 1000
    lr: float = 3e-3
    eval_samples: int = 2000  # samples drawn for each snapshot's picture and held-out distance


@dataclass
class FitSnapshot:
    step: int
    samples: torch.Tensor          # G_θ(ζ) for eval_samples fixed ζ, on the CPU: points (n, d) or images (n, C, H, W)
    loss: float                    # ‖z_X − ẑ_θ‖² at this step (on its own fresh batch)
    distance: float                # energy distance between ``samples`` and the held-out split, in the output space
    seconds: float                 # training time so far (snapshots excluded)
    final: bool = False
    losses: list[float] = field(default_factory=list)  # every step's loss so far


def check_settings(settings: FitSettings) -> FitSettings:
    for name, limit in (("steps", MAX_STEPS), ("batch", MAX_BATCH), ("eval_samples", MAX_BATCH)):
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise InputError(f"{name} must be a whole number from 1 to {limit}; got {value}")
    if not 0 < settings.lr < float("inf"):
        raise InputError(f"the learning rate must be a finite number > 0; got {settings.lr}")
    return settings


def sketch_loss(target: torch.Tensor, points: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
    """‖z_X − mean_j Φ(x_j)‖² for generated points (B, d)."""
    return (target - features(points, omega).mean(0)).pow(2).sum()


def fit_sketch(sketch: Sketch, omega: torch.Tensor, model: nn.Module, latent_dim: int, settings: FitSettings,
               heldout: torch.Tensor, generator: torch.Generator, every: int | None = 100,
               embed: Callable[[torch.Tensor], torch.Tensor] = lambda x: x.flatten(1),
               should_stop: Callable[[], bool] = lambda: False) -> Iterator[FitSnapshot]:
    """Train ``model`` in place on ``sketch``; a snapshot at step 0, every ``every`` steps, and a final one.

    ``embed`` maps the model's output to the sketched space (default: flatten); ``heldout`` (k, …) lives in
    the model's output space, where the distance is measured; latents come from ``generator`` (CPU) and
    move to Ω's device; ``should_stop`` ends the run early (a final snapshot still comes).
    """
    settings = check_settings(settings)
    device = omega.device
    omega32 = omega.float()
    target = sketch.values.to(device=device, dtype=torch.float32)
    heldout = heldout.to(device)
    eval_z = torch.randn(settings.eval_samples, latent_dim, generator=generator).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    # cosine decay from lr to lr/10: large steps to find the shape, small ones to settle on it
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, settings.steps, eta_min=settings.lr / 10)
    losses: list[float] = []
    seconds = 0.0

    def snapshot(step: int, loss: float, final: bool) -> FitSnapshot:
        with torch.no_grad():
            samples = model(eval_z)
        return FitSnapshot(step, samples.float().cpu(), loss, energy_distance(samples, heldout), seconds,
                           final, list(losses))

    with torch.no_grad():
        first = float(sketch_loss(target, embed(model(eval_z[:settings.batch])), omega32))
    yield snapshot(0, first, False)
    for step in range(1, settings.steps + 1):
        start = time.perf_counter()
        z = torch.randn(settings.batch, latent_dim, generator=generator).to(device)
        loss = sketch_loss(target, embed(model(z)), omega32)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
        losses.append(float(loss.detach()))
        seconds += time.perf_counter() - start
        if step == settings.steps or should_stop():
            break
        if every and step % every == 0:
            yield snapshot(step, losses[-1], False)
    yield snapshot(step, losses[-1], True)
