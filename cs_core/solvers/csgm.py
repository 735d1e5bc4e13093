"""CSGM (Bora et al., 2017): search the latent space of a frozen generator G.

    minimise_z  ‖y − A G(z)‖² + λ‖z‖²,    x̂ = G(ẑ)

Adam from R random starts z ~ N(0, I), all restarts (and all images) run as one batch. The
estimate shown is the restart with the lowest *measurement* loss ‖y − A G(z)‖² seen so far
(not the total loss, which would favour small ‖z‖).
"""
from dataclasses import dataclass

import torch

from ..problem import SOLVER_STREAM, Problem, stream
from .snapshot import StopWatch, make_snapshot, wants_snapshot


@dataclass
class CSGMSettings:
    steps: int
    lr: float
    restarts: int
    lam: float


def csgm(problem: Problem, generator: torch.nn.Module, latent_dim: int, settings: CSGMSettings,
         every: int | None = None, method: str = "csgm"):
    """Yield snapshots of Adam on ‖y − A G(z)‖² + λ‖z‖² every ``every`` steps and at the end."""
    op, y = problem.operator, problem.y
    batch, restarts = y.shape[0], settings.restarts
    watch = StopWatch(problem.device)
    watch.start()
    z0 = torch.randn((batch, restarts, latent_dim), generator=stream(problem.seed, SOLVER_STREAM))
    z = z0.to(problem.device).requires_grad_(True)
    optimiser = torch.optim.Adam([z], lr=settings.lr)
    best_loss = torch.full((batch,), float("inf"), device=y.device)
    best_objective = torch.full((batch,), float("inf"), device=y.device)
    best_x = torch.zeros((batch, *op.image_shape), device=y.device)

    def losses():
        x = generator(z.reshape(batch * restarts, latent_dim))
        measurement = ((op.A(x).reshape(batch, restarts, -1) - y[:, None]) ** 2).sum(-1)
        return x.reshape(batch, restarts, *op.image_shape), measurement, measurement + settings.lam * (z ** 2).sum(-1)

    def keep_best(x, measurement, objective):
        loss, index = measurement.detach().min(1)
        better = loss < best_loss
        rows = torch.arange(batch, device=y.device)
        best_loss[better] = loss[better]
        best_objective[better] = objective.detach()[rows, index][better]
        best_x[better] = x.detach()[rows, index][better]

    for step in range(1, settings.steps + 1):
        x, measurement, objective = losses()
        if not torch.isfinite(objective).all():
            seconds = watch.stop()
            message = (f"diverged at step {step} (non-finite loss); lower the learning rate "
                       f"(now {settings.lr:g}); showing the best estimate before that")
            yield make_snapshot(method, step - 1, best_x, best_loss.tolist(), best_objective.tolist(), seconds,
                                problem.truth, final=True, message=message)
            return
        keep_best(x, measurement, objective)
        optimiser.zero_grad(set_to_none=True)
        objective.sum().backward()
        optimiser.step()
        final = step == settings.steps
        if final:
            with torch.no_grad():
                x, measurement, objective = losses()
            if torch.isfinite(objective).all():
                keep_best(x, measurement, objective)
        if final or wants_snapshot(step, every):
            seconds = watch.stop()
            yield make_snapshot(method, step, best_x, best_loss.tolist(), best_objective.tolist(), seconds,
                                problem.truth, final=final)
            watch.start()
