"""CSGM (Bora et al., 2017): search the latent space of a frozen generator G.

    minimise_z  ‖y − A G(z)‖² + λ‖z‖²,    x̂ = G(ẑ)

From R random starts z ~ N(0, I), all restarts (and all images) run as one batch, by Adam or by
batched L-BFGS (:mod:`.lbfgs`; one evaluation of G per step either way). The estimate shown is the
restart with the lowest *measurement* loss ‖y − A G(z)‖² seen so far (not the total loss, which
would favour small ‖z‖), so nothing below can make it worse:

- pruning (``prune_after``): after that many steps each image keeps only the restart with the lowest
  current objective, and the later steps evaluate G on one latent per image instead of R;
- early stopping (``patience``): the run ends once, for every image, the best measurement loss has
  fallen by less than a relative ``STALL`` over the last ``patience`` steps, or lies at or below the
  noise floor max(σ²m, ``FIT_FLOOR``·‖y‖²) (the discrepancy principle: fitting further fits the noise).
"""
from dataclasses import dataclass

import torch

from ..problem import SOLVER_STREAM, Problem, stream
from .lbfgs import BatchedLBFGS
from .snapshot import StopWatch, make_snapshot, wants_snapshot

OPTIMISERS = ("adam", "lbfgs")
STALL = 1e-3       # early stopping: a relative fall of the best measurement loss below this is a stall
FIT_FLOOR = 1e-6   # ... and a loss below this fraction of ‖y‖² fits noiseless measurements exactly


@dataclass
class CSGMSettings:
    """``lr`` is Adam's learning rate, or L-BFGS's first step length (along −∇, in latent units).
    The defaults of the last four fields are plain Adam to the last step, as in the paper."""
    steps: int
    lr: float
    restarts: int
    lam: float
    optimiser: str = "adam"
    prune_after: int = 0    # 0: never prune
    patience: int = 0       # 0: never stop early
    history: int = 20       # L-BFGS memory


def csgm(problem: Problem, generator: torch.nn.Module, latent_dim: int, settings: CSGMSettings,
         every: int | None = None, method: str = "csgm"):
    """Yield snapshots of the search for min_z ‖y − A G(z)‖² + λ‖z‖² every ``every`` steps and at the end."""
    if settings.optimiser not in OPTIMISERS:
        raise ValueError(f"optimiser must be one of {OPTIMISERS}; got {settings.optimiser!r}")
    op, y = problem.operator, problem.y
    batch = y.shape[0]
    watch = StopWatch(problem.device)
    watch.start()
    z0 = torch.randn((batch, settings.restarts, latent_dim), generator=stream(problem.seed, SOLVER_STREAM))
    search = (_Adam if settings.optimiser == "adam" else _LBFGS)(z0.to(problem.device), settings)
    rows = torch.arange(batch, device=y.device)
    best_loss = torch.full((batch,), float("inf"), device=y.device)
    best_objective = torch.full((batch,), float("inf"), device=y.device)
    best_x = torch.zeros((batch, *op.image_shape), device=y.device)
    floor = torch.clamp_min(FIT_FLOOR * (y ** 2).sum(1), problem.noise ** 2 * op.m)
    history = []

    def losses(z):
        restarts = z.shape[1]
        x = generator(z.reshape(batch * restarts, latent_dim))
        measurement = ((op.A(x).reshape(batch, restarts, -1) - y[:, None]) ** 2).sum(-1)
        return x.reshape(batch, restarts, *op.image_shape), measurement, measurement + settings.lam * (z ** 2).sum(-1)

    def keep_best(x, measurement, objective):
        loss, index = measurement.detach().min(1)
        better = loss < best_loss
        best_loss[better] = loss[better]
        best_objective[better] = objective.detach()[rows, index][better]
        best_x[better] = x.detach()[rows, index][better]

    def snapshot(step, final, message=""):
        seconds = watch.stop()
        return make_snapshot(method, step, best_x, best_loss.tolist(), best_objective.tolist(), seconds,
                             problem.truth, final=final, message=message)

    for step in range(1, settings.steps + 1):
        if settings.prune_after and step == settings.prune_after + 1 and search.restarts > 1:
            search.keep(search.objective().argmin(1))
        z = search.point()
        x, measurement, objective = losses(z)
        if settings.optimiser == "adam" and not torch.isfinite(objective).all():
            message = (f"diverged at step {step} (non-finite loss); lower the learning rate "
                       f"(now {settings.lr:g}); showing the best estimate before that")
            yield snapshot(step - 1, True, message)
            return
        keep_best(x, measurement, objective)
        search.advance(objective)
        final = step == settings.steps
        if final and settings.optimiser == "adam":
            with torch.no_grad():
                x, measurement, objective = losses(search.point())
            if torch.isfinite(objective).all():
                keep_best(x, measurement, objective)
        history.append(best_loss.clone())
        message = ""
        if not final and settings.patience:
            if bool((best_loss <= floor).all()):
                final, message = True, f"stopped at step {step}: the measurement loss reached the noise level"
            elif step > settings.patience and bool((best_loss > (1 - STALL) * history[-1 - settings.patience]).all()):
                final, message = True, f"stopped at step {step}: the measurement loss stalled"
        if final or wants_snapshot(step, every):
            yield snapshot(step, final, message)
            if final:
                return
            watch.start()


class _Adam:
    """Adam on z (B, R, d); ``advance`` takes the objective (B, R) at ``point()``."""

    def __init__(self, z0, settings):
        self.lr = settings.lr
        self.z = z0.clone().requires_grad_(True)
        self.optimiser = torch.optim.Adam([self.z], lr=self.lr)
        self.last = None

    @property
    def restarts(self):
        return self.z.shape[1]

    def point(self):
        return self.z

    def objective(self):
        return self.last

    def advance(self, objective):
        self.last = objective.detach()
        self.optimiser.zero_grad(set_to_none=True)
        objective.sum().backward()
        self.optimiser.step()

    def keep(self, index):
        """Keep restart ``index[b]`` of each image b (with its Adam moments)."""
        rows = torch.arange(self.z.shape[0], device=self.z.device)
        state = self.optimiser.state[self.z]
        self.z = self.z.detach()[rows, index][:, None].clone().requires_grad_(True)
        optimiser = torch.optim.Adam([self.z], lr=self.lr)
        optimiser.state[self.z] = {key: (value[rows, index][:, None].clone() if value.dim() else value.clone())
                                   for key, value in state.items()}
        self.optimiser = optimiser
        self.last = self.last[rows, index][:, None]


class _LBFGS:
    """Batched L-BFGS on z (B, R, d), one row per (image, restart); the trial point is ``point()``."""

    def __init__(self, z0, settings):
        self.shape = z0.shape
        self.state = BatchedLBFGS(z0.reshape(-1, z0.shape[-1]), settings.history, settings.lr)
        self.trial = self.state.trial()

    @property
    def restarts(self):
        return self.shape[1]

    def point(self):
        self.z = self.trial.reshape(self.shape).requires_grad_(True)
        return self.z

    def objective(self):
        return self.state.f.reshape(self.shape[:2])

    def advance(self, objective):
        (gradient,) = torch.autograd.grad(objective.sum(), self.z)
        self.trial = self.state.step(objective.detach().reshape(-1), gradient.reshape(-1, self.shape[-1]))

    def keep(self, index):
        """Keep restart ``index[b]`` of each image b (with its L-BFGS memory)."""
        batch, restarts, dim = self.shape
        self.state.keep(torch.arange(batch, device=index.device) * restarts + index)
        self.shape = (batch, 1, dim)
        self.trial = self.state.trial()
