"""The representation-error oracle: a search for the image of the prior closest to the TRUE image.

    minimise_z  ‖x* − G(z)‖²,    x̂ = G(ẑ)

An oracle, not a reconstruction: it sees x* itself and ignores the measurements y. It estimates the
paper's min_z ‖x* − G(z)‖ term by the same kind of non-convex search as CSGM (with the identity sensor:
y = x*, no noise, λ = 0, from more restarts than CSGM uses), so it is an estimate, not a bound: CSGM from
y can end below it (on real photos at large m, docs/RESULTS.md).
"""
from dataclasses import replace

from ..errors import InputError
from ..operators.identity import IdentityOperator
from ..priors import PRIORS
from ..problem import Problem
from .csgm import csgm
from .warmstart import csgm_settings

ORACLE_RESTARTS = 4


def oracle_problem(problem: Problem) -> Problem:
    """The same images seen exactly: y = x*."""
    if problem.truth is None:
        raise InputError("the representation-error oracle needs the true image (it is an oracle that sees x*)")
    op = IdentityOperator(problem.operator.image_shape, problem.device)
    return replace(problem, operator=op, y=op.A(problem.truth), noise=0.0)


def start(prior_name: str):
    """The registry's ``oracle-<prior>``: ``options`` as for CSGM except λ, always 0. Snapshots report the
    real problem's ‖y − A x̂‖² as the measurement loss and ‖x* − G(z)‖² as the objective."""
    def run(problem, options, every):
        prior = PRIORS[prior_name]
        settings = replace(csgm_settings(prior_name, options), lam=0.0,
                           restarts=options.restarts or max(prior.defaults.restarts, ORACLE_RESTARTS))
        seen = oracle_problem(problem)
        generator = prior.load(problem.device)

        def stream():
            for snap in csgm(seen, generator, prior.latent_dim, settings, every, method=f"oracle-{prior_name}"):
                estimate = snap.estimate.to(problem.device)
                snap.objective = snap.measurement_loss
                snap.measurement_loss = ((problem.operator.A(estimate) - problem.y) ** 2).sum(1).tolist()
                snap.extra["stage"] = "oracle: sees the true image x*, ignores y"
                yield snap
        return stream()
    return run
