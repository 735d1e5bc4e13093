"""FISTA on the Lasso, λ given or chosen by the path, as a generator of snapshots."""
import torch

from ...bases import Basis
from ...problem import Problem
from ..snapshot import StopWatch, wants_snapshot
from .path import lambda_path
from .settings import RATIO_PATH, LassoSettings, choose_lambda, lambda_max, path_steps, planned_iterations
from .steps import iterate_snapshot
from .working_set import STEPS


def fista(problem: Problem, basis: Basis, settings: LassoSettings, every: int | None = None,
          method: str = "lasso"):
    """Yield snapshots of FISTA on ½‖y − AΨc‖² + λ‖c‖₁ every ``every`` iterations and at the end (unless the
    settings give λ, ``lambda_path`` chooses it first, within the iteration count less the ratios it skipped).
    ``extra``: λ, the step's L and, for backtracking, the retried steps, per image (and, when the rule chose,
    the chosen ratio and the number of the path's ratios run)."""
    watch = StopWatch(problem.device)
    watch.start()
    coeffs = torch.zeros((problem.batch, *problem.operator.image_shape), device=problem.device)
    total, done = planned_iterations(settings.iterations, settings.from_rule), 0
    if settings.from_rule:
        steps = path_steps(total)
        ratio, coeffs, stages = yield from lambda_path(problem, basis, settings, steps, watch, every, method)
        lam, done = ratio * lambda_max(problem, basis), steps * stages
        total -= steps * (len(RATIO_PATH) - stages)  # the ratios the path skipped are not run
        chosen = {"lam_ratio": ratio.tolist(), "path_ratios": stages}
    else:
        lam, chosen = choose_lambda(problem, basis, settings), {}
    stepper = STEPS[settings.step](problem, basis, coeffs)
    for iteration in range(done + 1, total + 1):
        coeffs = stepper.step(lam.reshape(-1, 1, 1, 1))
        final = iteration == total
        if final or wants_snapshot(iteration, every):
            seconds = watch.stop()
            yield iterate_snapshot(problem, basis, coeffs, lam, method, iteration, seconds, stepper.measured,
                                   final=final, **chosen, **stepper.extra())
            watch.start()
