"""Solver registry: method name → how to run it and which domains it fits.

Every method is a generator of ``Snapshot``s. Lasso, TV and DIP fit every domain; ``csgm-<prior>``
fits its prior's domain. Adding a method is one function and one registry line.
"""
import math
import textwrap
from dataclasses import dataclass
from typing import Callable, Iterator

from ..bases import BASES
from ..errors import InputError
from ..priors import PRIORS
from ..problem import Problem
from . import dip, finetune, ilo, oracle, posterior, sparsegen, tv
from .csgm import CSGMSettings, csgm
from .lasso import STEP_RULES, LassoSettings, fista, planned_iterations
from .snapshot import Snapshot
from .warmstart import phase_two_steps

MAX_ITERATIONS = 20_000
MAX_RESTARTS = 64


@dataclass(frozen=True)
class Options:
    """User overrides; ``None`` keeps each method's default."""
    iterations: int | None = None
    restarts: int | None = None
    lam: float | None = None        # Lasso's ℓ1 weight λ / TV's weight λ (absolute)
    lam_ratio: float | None = None  # or λ as a fraction of ‖ΨᵀAᵀy‖∞ (Lasso) / ‖Aᵀy‖∞ (TV), per image
    csgm_lam: float | None = None   # CSGM's ‖z‖² weight
    lr: float | None = None         # CSGM's / DIP's Adam learning rate
    lasso_step: str | None = None   # FISTA's step rule, one of lasso.STEP_RULES (None: LassoSettings.step)


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    objective: str
    domains: tuple[str, ...]
    start: Callable[[Problem, Options, int | None], Iterator[Snapshot]]
    iterations: Callable[[Options], int]  # how many iterations ``start`` will run
    step: str                             # what one of those iterations is (``--help`` shows it)
    starts: Callable[[Options], int] = lambda options: 1  # descents run side by side (restarts, chains)
    matrix_copies: int = 0                # a dense A's extra copies it makes, in float32 sizes (Lasso's design AΨ:
                                          # 1; float64 chains: 2, A cast to float64)


def _lasso_iterations(options: Options) -> int:
    return planned_iterations(options.iterations, options.lam is None and options.lam_ratio is None)


def _csgm_iterations(prior_name: str):
    return lambda options: options.iterations or PRIORS[prior_name].defaults.steps


def _csgm_starts(prior_name: str, least: int = 1):
    return lambda options: options.restarts or max(PRIORS[prior_name].defaults.restarts, least)


OPTIMISER_LABELS = {"adam": "Adam", "lbfgs": "batched L-BFGS"}


def _descent(prior_name: str) -> str:
    """CSGM's step as the prior's defaults take it, e.g. 'batched L-BFGS steps from 4 starts'."""
    d = PRIORS[prior_name].defaults
    return f"{OPTIMISER_LABELS[d.optimiser]} steps from {d.restarts} starts"


def _tv(problem, options, every):
    return tv.tv(problem, tv.TVSettings(options.iterations or tv.DEFAULT_ITERATIONS, options.lam, options.lam_ratio),
                 every)


def _dip(problem, options, every):
    settings = dip.DIPSettings(options.iterations or dip.DEFAULT_ITERATIONS,
                               dip.DEFAULT_LR if options.lr is None else options.lr)
    return dip.dip(problem, settings, every)


def _lasso(basis_name: str):
    def start(problem, options, every):
        settings = LassoSettings(options.iterations, options.lam, options.lam_ratio,
                                 options.lasso_step or LassoSettings.step)
        return fista(problem, BASES[basis_name], settings, every, method=f"lasso-{basis_name}")
    return start


def _csgm(prior_name: str):
    def start(problem, options, every):
        prior = PRIORS[prior_name]
        d = prior.defaults
        settings = CSGMSettings(
            steps=_csgm_iterations(prior_name)(options),
            lr=d.lr if options.lr is None else options.lr,
            restarts=options.restarts or d.restarts,
            lam=d.lam if options.csgm_lam is None else options.csgm_lam,
            optimiser=d.optimiser,
            prune_after=d.prune_after,
            patience=d.patience,
        )
        generator = prior.load(problem.device)
        return csgm(problem, generator, prior.latent_dim, settings, every, method=f"csgm-{prior_name}")
    return start


LASSO_OBJECTIVE = "min_c ½‖y − AΨc‖² + λ‖c‖₁, Ψ = {}"
ALL_DOMAINS = ("mnist", "faces")
METHODS: dict[str, Method] = {
    f"lasso-{basis}": Method(f"lasso-{basis}", f"Lasso ({label})", LASSO_OBJECTIVE.format(psi), ALL_DOMAINS,
                             _lasso(basis), _lasso_iterations, "FISTA iterations, λ path included", matrix_copies=1)
    for basis, label, psi in (("pixel", "pixel", "identity"), ("dct", "DCT", "2-D DCT"),
                              ("wavelet", "wavelet", "Haar wavelet"))
}
for _prior in PRIORS.values():
    METHODS[f"csgm-{_prior.name}"] = Method(
        f"csgm-{_prior.name}", f"CSGM ({_prior.name.upper()})", "min_z ‖y − A G(z)‖² + λ‖z‖²",
        (_prior.domain,), _csgm(_prior.name), _csgm_iterations(_prior.name), _descent(_prior.name),
        _csgm_starts(_prior.name))

METHODS["tv"] = Method("tv", "TV", tv.OBJECTIVE, ALL_DOMAINS, _tv, lambda o: o.iterations or tv.DEFAULT_ITERATIONS,
                       "Chambolle–Pock iterations")
METHODS["dip"] = Method("dip", "Deep Image Prior", dip.OBJECTIVE, ALL_DOMAINS, _dip,
                        lambda o: o.iterations or dip.DEFAULT_ITERATIONS, "Adam steps on the decoder's weights")


def _then(prior_name: str, phase2_steps: int):
    return lambda options: _csgm_iterations(prior_name)(options) + phase_two_steps(phase2_steps, options)


def _then_step(prior_name: str, phase2: str, phase2_steps: int) -> str:
    return f"{_descent(prior_name)} (CSGM), then {phase2_steps} {phase2}; --iters sets the first and caps the second"


# Beyond the range: CSGM first, then a second phase (the snapshots' message and extra["phase"] say which). For the
# priors trained on images (the sketch-learned prior has its own tab and would only crowd the MNIST choices).
RANGE_EXTENDED_PRIORS = ("vae", "dcgan")
for _p in (PRIORS[name] for name in RANGE_EXTENDED_PRIORS):
    METHODS[f"sparse-gen-{_p.name}"] = Method(
        f"sparse-gen-{_p.name}", f"Sparse-Gen ({_p.name.upper()} + sparse ν)",
        "min_{z,ν} ‖y − A(G(z) + ν)‖² + λ‖z‖² + λ_ν‖Ψν‖₁, Ψ = Haar wavelet", (_p.domain,),
        sparsegen.start(_p.name, BASES["wavelet"]), _then(_p.name, sparsegen.SparseGenSettings().steps),
        _then_step(_p.name, "Adam steps on z and ISTA steps on ν", sparsegen.SparseGenSettings().steps),
        _csgm_starts(_p.name))
    METHODS[f"finetune-{_p.name}"] = Method(
        f"finetune-{_p.name}", f"Fine-tuned {_p.name.upper()} (per image)", "min_{z,θ} ‖y − A G_θ(z)‖² + λ‖z‖²",
        (_p.domain,), finetune.start(_p.name), _then(_p.name, finetune.FinetuneSettings().steps),
        _then_step(_p.name, "Adam steps on z and the weights", finetune.FinetuneSettings().steps),
        _csgm_starts(_p.name))
for _p in (PRIORS[name] for name in (*RANGE_EXTENDED_PRIORS, "sketch")):  # the representation error of each prior
    METHODS[f"oracle-{_p.name}"] = Method(
        f"oracle-{_p.name}", f"Best the {_p.name.upper()} can do (oracle, sees the truth)", "min_z ‖x* − G(z)‖²",
        (_p.domain,), oracle.start(_p.name), _csgm_iterations(_p.name),
        f"{OPTIMISER_LABELS[_p.defaults.optimiser]} steps on ‖x* − G(z)‖²",
        _csgm_starts(_p.name, oracle.ORACLE_RESTARTS))
METHODS["ilo-dcgan"] = Method(
    "ilo-dcgan", "ILO (DCGAN, intermediate layer)", "min_h ‖y − A T(h)‖², ‖h − H(ẑ)‖ ≤ ρ‖H(ẑ)‖", ("faces",),
    ilo.start("dcgan"), _then("dcgan", ilo.ILOSettings().steps),
    _then_step("dcgan", "projected Adam steps on h", ilo.ILOSettings().steps), _csgm_starts("dcgan"))
for _name in posterior.SAMPLED_PRIORS:
    METHODS[f"posterior-{_name}"] = Method(
        f"posterior-{_name}", f"Posterior samples ({_name.upper()})", posterior.OBJECTIVE, (PRIORS[_name].domain,),
        posterior.start(_name), lambda options, _name=_name: posterior.planned_iterations(_name, options),
        f"CSGM descent steps from {posterior.DEFAULTS[_name].chains} starts, then MALA steps (half burn-in)",
        lambda options, _name=_name: posterior.settings_for(_name, options).chains, matrix_copies=2)


def describe() -> str:
    """The registry as ``--help`` lists it: each method's domains, what one of its iterations is and how
    many it runs by default."""
    width = max(map(len, METHODS)) + 2
    domains = max(len(", ".join(m.domains)) for m in METHODS.values()) + 2
    lines = ["registered methods, their domains, what one iteration is, and how many run by default:"]
    for m in METHODS.values():
        default, with_lam = m.iterations(Options()), m.iterations(Options(lam=1.0))
        count = f"default {default}" + (f" ({with_lam} with --lam)" if with_lam != default else "")
        lines.append(textwrap.fill(f"{m.name:<{width}}{', '.join(m.domains):<{domains}}{m.step}; {count}", 110,
                                   initial_indent="  ", subsequent_indent=" " * (width + domains + 2)))
    return "\n".join(lines)


def methods_for(domain: str) -> list[str]:
    return [name for name, method in METHODS.items() if domain in method.domains]


def check_methods(names: list[str], domain: str) -> list[str]:
    """Validate method names for a domain; duplicates are dropped, order kept."""
    if not names:
        raise InputError("choose at least one method")
    for name in names:
        if name not in METHODS:
            raise InputError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
        if domain not in METHODS[name].domains:
            raise InputError(f"method {name} does not fit domain {domain}; for {domain} use {', '.join(methods_for(domain))}")
    return list(dict.fromkeys(names))


def _finite(value, what: str, positive: bool = False):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0 \
            or (positive and value == 0):
        raise InputError(f"{what} must be a finite number {'> 0' if positive else '≥ 0'}; got {value}")
    return float(value)


def _count(value, what: str, limit: int):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise InputError(f"{what} must be a whole number from 1 to {limit}; got {value}")
    return value


def _step_rule(value):
    if value is not None and value not in STEP_RULES:
        raise InputError(f"the Lasso step rule must be one of {', '.join(STEP_RULES)}; got {value!r}")
    return value


def check_options(options: Options) -> Options:
    return Options(
        iterations=_count(options.iterations, "iterations", MAX_ITERATIONS),
        restarts=_count(options.restarts, "restarts", MAX_RESTARTS),
        lam=_finite(options.lam, "λ (lam)"),
        lam_ratio=_finite(options.lam_ratio, "λ ratio"),
        csgm_lam=_finite(options.csgm_lam, "CSGM λ"),
        lr=_finite(options.lr, "learning rate", positive=True),
        lasso_step=_step_rule(options.lasso_step),
    )
