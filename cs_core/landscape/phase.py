"""Phase transition: how often descent recovers z* as the number of measurements m grows.

For each m, ``trials`` independent problems (net, A, z* with ‖G(z*)‖ = 1, y), batched together,
each descended from one random start by plain gradient descent and by the negation scheme. A
trial succeeds when ‖ẑ − z*‖/‖z*‖ < 1e-3 (noiseless) or within the noise floor (see ``risk``).
The nets and z* are the same for every m (only A and the noise change). Each rate comes with its
95 % Wilson interval (``cs_core.stats``).
"""
from dataclasses import dataclass
from typing import Iterator

import torch

from ..errors import InputError
from ..stats import wilson_interval
from .descent import check_steps, run_to_end
from .risk import check_m, random_risk, random_starts

PHASE_METHODS = ("gd", "negation")
MAX_TRIALS = 200
MAX_POINTS = 40


@dataclass
class PhasePoint:
    m: int
    trials: int
    successes: dict[str, int]   # method → trials that reached z*
    seconds: float              # compute time of this m

    @property
    def success(self) -> dict[str, float]:
        """method → fraction of trials that reached z*."""
        return {method: count / self.trials for method, count in self.successes.items()}

    @property
    def interval(self) -> dict[str, tuple[float, float]]:
        """method → 95 % Wilson interval (low, high) of its success rate."""
        return {method: wilson_interval(count, self.trials) for method, count in self.successes.items()}


def check_phase(ms: list[int], trials: int) -> None:
    if not ms or len(ms) > MAX_POINTS:
        raise InputError(f"give 1 to {MAX_POINTS} values of m; got {len(ms)}")
    for m in ms:
        check_m(m)
    if isinstance(trials, bool) or not isinstance(trials, int) or not 1 <= trials <= MAX_TRIALS:
        raise InputError(f"trials must be a whole number from 1 to {MAX_TRIALS}; got {trials}")


def phase_transition(k: int, widths: list[int], ms: list[int], trials: int, steps: int, seed: int,
                     device: torch.device, noise: float = 0.0, lr: float | None = None) -> Iterator[PhasePoint]:
    """Yield the success rate of each method at each m, in the order given."""
    check_phase(ms, trials)
    check_steps(steps)
    for m in ms:
        risk, _ = random_risk(k, widths, m, noise, seed, device, trials)
        z0 = random_starts(risk, 1, seed)
        successes, seconds = {}, 0.0
        for method in PHASE_METHODS:
            final = run_to_end(risk, z0, method, steps, lr)
            successes[method] = int(risk.reached(final.z.to(device)).sum())
            seconds += final.seconds
        yield PhasePoint(m, trials, successes, seconds)
