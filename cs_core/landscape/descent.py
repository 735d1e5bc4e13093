"""Descent on the risk f(z) = ½‖A G(z) − y‖² from many starts at once, as snapshot generators.

- ``gd``: z ← z − ν ∇f(z), with ν = lr · step_unit (step_unit = 2^d, the inverse curvature of f at
  z* for a wide random d-layer net, so lr is dimensionless).
- ``negation`` (Huang, Hand, Heckel & Voroninski): first, wherever f(−z) < f(z), jump to −z; then
  the same gradient step. ∇f is autograd's subgradient Λ_zᵀAᵀ(A G(z) − y).
- ``adam``: Adam on f with learning rate lr (absolute, in units of z).

Every solver yields a :class:`DescentSnapshot` at iteration 0, every ``every`` steps, and always a
final one (early, with a message, if f stops being finite).
"""
from dataclasses import dataclass
from typing import Iterator

import torch

from ..errors import InputError
from ..solvers.snapshot import StopWatch, wants_snapshot
from .risk import Risk

METHODS = {"gd": "gradient descent", "adam": "Adam", "negation": "GD + negation check"}
DEFAULT_LR = {"gd": 0.5, "negation": 0.5, "adam": 0.05}
MAX_STEPS = 20_000


@dataclass
class DescentSnapshot:
    method: str
    iteration: int
    z: torch.Tensor          # (T, S, k) positions of all starts, on the CPU
    f: torch.Tensor          # (T, S) risk at z
    distance: torch.Tensor   # (T, S) relative distance ‖z − z*‖/‖z*‖
    seconds: float           # compute time so far
    final: bool = False
    message: str = ""


def check_method(method: str) -> str:
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    return method


def check_steps(steps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise InputError(f"steps must be a whole number from 1 to {MAX_STEPS}; got {steps}")
    return steps


def check_lr(lr: float) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < float("inf"):
        raise InputError(f"the step size (lr) must be a finite number > 0; got {lr}")
    return float(lr)


def descend(risk: Risk, z0: torch.Tensor, method: str, steps: int, lr: float | None = None,
            every: int | None = None) -> Iterator[DescentSnapshot]:
    """Minimise f(z) = ½‖A G(z) − y‖² from the starts ``z0`` (T, S, k) by ``method``; yield snapshots."""
    check_method(method)
    check_steps(steps)
    lr = check_lr(DEFAULT_LR[method] if lr is None else lr)
    watch = StopWatch(risk.device)
    watch.start()
    z = z0.detach().clone().to(risk.device).requires_grad_(True)
    optimiser = torch.optim.Adam([z], lr=lr) if method == "adam" else None
    step_size = lr * risk.step_unit

    def snapshot(iteration, final=False, message=""):
        with torch.no_grad():
            f = risk(z)
        seconds = watch.stop()
        snap = DescentSnapshot(method, iteration, z.detach().cpu().clone(), f.cpu(), risk.relative_error(z.detach()).cpu(),
                               seconds, final, message)
        watch.start()
        return snap

    if every:
        yield snapshot(0)
    for step in range(1, steps + 1):
        if method == "negation":
            with torch.no_grad():
                flip = risk(-z) < risk(z)
                z[flip] = -z[flip]
        f = risk(z)
        if not torch.isfinite(f).all():
            yield snapshot(step - 1, final=True, message=f"diverged at step {step} (non-finite f); lower the step size "
                                                         f"(now {lr:g})")
            return
        (grad,) = torch.autograd.grad(f.sum(), z)
        if optimiser is None:
            with torch.no_grad():
                z -= step_size * grad
        else:
            z.grad = grad
            optimiser.step()
        if step == steps or wants_snapshot(step, every):
            yield snapshot(step, final=step == steps)


def run_to_end(risk: Risk, z0: torch.Tensor, method: str, steps: int, lr: float | None = None) -> DescentSnapshot:
    """The final snapshot of :func:`descend`."""
    for snap in descend(risk, z0, method, steps, lr):
        if snap.final:
            return snap


def stall_points(risk: Risk, snapshots: list[DescentSnapshot]) -> torch.Tensor:
    """Where each path stalled on the far side of z*: of its iterates with cos∠(z, z*) < 0, the one
    where the step ‖z_{t+1} − z_t‖ was smallest. Needs snapshots of every step; returns (T, S, k)
    (the last iterate for paths that never had cos < 0)."""
    zs = torch.stack([s.z for s in snapshots]).to(risk.device)          # (N, T, S, k)
    move = (zs[1:] - zs[:-1]).norm(dim=-1)
    far = torch.stack([risk.cosine(z) < 0 for z in zs[1:]])
    move = torch.where(far, move, torch.full_like(move, float("inf")))
    index = torch.where(far.any(0), move.argmin(0), torch.full_like(move[0], len(move) - 1, dtype=torch.long))
    return zs[1:].gather(0, index[None, ..., None].expand(1, *zs.shape[1:]))[0]
