"""The Lasso's settings, its iteration budgets and λ given directly (absolute or as a ratio of λ_max)."""
from dataclasses import dataclass

import torch

from ...bases import Basis
from ...problem import Problem

DEFAULT_ITERATIONS = 300
STEP_RULES = ("working-set", "backtracking", "power")
RATIO_PATH = (0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001)  # λ / λ_max, largest first
PATH_ITERATIONS = 30  # warm-started FISTA iterations per ratio of the path (fewer when the run is short)
RULE_ITERATIONS = len(RATIO_PATH) * PATH_ITERATIONS + DEFAULT_ITERATIONS  # the default when the rule chooses λ


@dataclass
class LassoSettings:
    iterations: int | None = None   # in all, the λ path's included (default: ``planned_iterations``)
    lam: float | None = None        # absolute λ, the same for every image
    lam_ratio: float | torch.Tensor | None = None  # else λ = lam_ratio · λ_max per image (a (B,) tensor:
                                                   # one ratio per image); neither: ``lambda_path``
    step: str = "working-set"       # or "backtracking", "power" (see the module docstring)

    def __post_init__(self):
        if self.step not in STEP_RULES:
            raise ValueError(f"step must be one of {', '.join(STEP_RULES)}; got {self.step!r}")

    @property
    def from_rule(self) -> bool:
        return self.lam is None and self.lam_ratio is None


def planned_iterations(iterations: int | None, from_rule: bool) -> int:
    """The iterations ``fista`` runs: as asked (default per case), and with the rule at least one per path ratio
    plus one at the chosen λ."""
    if from_rule:
        return max(iterations or RULE_ITERATIONS, len(RATIO_PATH) + 1)
    return iterations or DEFAULT_ITERATIONS


def path_steps(total: int) -> int:
    """FISTA iterations per ratio of the λ path in a run of ``total``: at most half of a short run on the path."""
    return max(1, min(PATH_ITERATIONS, total // (2 * len(RATIO_PATH))))


def lambda_max(problem: Problem, basis: Basis) -> torch.Tensor:
    """‖ΨᵀAᵀy‖∞ per image, shape (B,)."""
    return basis.analysis(problem.operator.A_adjoint(problem.y)).abs().flatten(1).max(1).values


def choose_lambda(problem: Problem, basis: Basis, settings: LassoSettings) -> torch.Tensor:
    """λ per image, shape (B,), when the settings give it: the absolute ``lam``, else ``lam_ratio`` · λ_max."""
    if settings.lam is not None:
        return torch.full((problem.batch,), float(settings.lam), device=problem.device)
    return settings.lam_ratio * lambda_max(problem, basis)
