"""The settings of the Landscape, Sketch and Sweep tabs and of their CLI commands, declared once as rows of
:class:`cs_core.settings.Field` (the Reconstruct tab's rows are ``cs_core.settings.FIELDS``).

A command's row carries the core's limits and its CLI flag; the tab's row is the same row narrowed to what the
widget shows (its slider's ends), so one validator (``Field.check``: type, finiteness, range) gives the CLI's
``error:`` line and the app's ``gr.Error`` alike, each naming the field and its allowed range. The tabs build
their widgets from these rows and their API parameters follow each tuple's order. The limits of the tab rows
are sized so that every combination finishes within the app's wall cap on a 2-core CPU (docs/app.md).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace

from .domains import DOMAINS
from .errors import InputError
from .experiments.splits import SOURCES
from .landscape import descent, risk, scene
from .settings import Field
from .priors import PRIORS
from .solvers import check_methods
from .sketching import fit, frequencies, learn, toys

MAX_SEED = 2 ** 31 - 1
PRESETS = {"2 layers, wide": (50, 500), "3 layers": (20, 100, 500)}  # the Landscape tab's generators (k = 2)

F = Field
SEED = F("seed", int, 0, "seed (--seed)", "--seed", low=0, high=MAX_SEED)

def row(rows: tuple[Field, ...], name: str) -> Field:
    return next(r for r in rows if r.name == name)


# ---------------------------------------------------------------- landscape descend / the tab's Run
STARTS = F("starts", int, 64, "random starts (--starts)", "--starts", low=1, high=scene.MAX_STARTS)
STEPS = F("steps", int, 300, "steps (--steps)", "--steps", low=1, high=descent.MAX_STEPS)
NOISE = F("noise", float, 0.0, "noise σ (--noise)", "--noise", low=0)
METHOD = F("method", str, "gd", "method (--method)", "--method", choices=tuple(descent.METHODS))
LANDSCAPE_M = F("m", int, 200, "m (measurements)", "--m", low=1, high=risk.MAX_M)
RESTARTS = replace(STARTS, name="restarts", default=8, label="restarts (--restarts)", flag="--restarts")

LANDSCAPE = (  # the order of /landscape's parameters
    F("preset", str, "2 layers, wide", "generator", choices=tuple(PRESETS)),
    replace(LANDSCAPE_M, low=2, high=1000),
    replace(NOISE, default=0.0, high=0.2, label="noise σ"),
    replace(STARTS, default=32, high=128, label="random starts"),
    replace(METHOD, label="method"),
    replace(STEPS, default=100, low=10, high=1000, label="steps"),
    replace(SEED, label="seed"),
)
LANDSCAPE_PHASE = (LANDSCAPE[0], replace(STEPS, default=200, low=50, high=500, label="steps"), LANDSCAPE[-1])
LANDSCAPE_SLICE = (
    F("prior", str, "vae", "prior", choices=tuple(PRIORS)),
    replace(LANDSCAPE_M, default=100, low=10, high=1000, label="m"),
    replace(RESTARTS, default=6, high=8, label="CSGM restarts"),
    LANDSCAPE[-1],
)

# ---------------------------------------------------------------- sketch fit / the Sketch tab
SKETCH_M = F("m", int, learn.DEFAULT.m, "sketch size m (--m)", "--m", low=1, high=learn.MAX_M)
SKETCH_STEPS = F("steps", int, learn.DEFAULT.steps, "training steps (--steps)", "--steps", low=1, high=fit.MAX_STEPS)
LAW = F("freq", str, learn.DEFAULT.freq, "frequency law (--freq)", "--freq", choices=tuple(frequencies.LAWS))

SKETCH_SOURCES = (*toys.TOYS, "your drawing", "your file")
SKETCH = (  # the order of /sketch_train's parameters (/sketch's without the steps)
    F("dataset", str, "spiral", "dataset", choices=SKETCH_SOURCES),
    replace(SKETCH_M, low=10, high=2000, label="sketch size m"),
    replace(LAW, name="law", label="frequency law"),
    replace(SKETCH_STEPS, low=100, high=3000, label="training steps"),
    replace(SEED, label="seed"),
)

# ---------------------------------------------------------------- sweep / the Sweep tab
IMAGES = F("images", int, None, "number of images (--images)", "--images", low=1)
SWEEP = (  # the order of /sweep's parameters
    F("domain", str, "mnist", "domain", choices=tuple(DOMAINS)),
    F("methods", list, None, "method"),
    F("ms", list, None, "value of m"),
    replace(IMAGES, default=3, high=10, label="number of images"),
    F("source", str, "heldout", "images", choices=SOURCES),
)
del F


@dataclass(frozen=True)
class SweepOffer:
    """What the Sweep tab offers in a domain: the methods of its precomputed figure, the paper's m values up to
    ``max_m`` and at most ``images`` images, so that the sweep of every method at every m on every image ends
    within half the app's 120 s wall cap on one core (docs/app.md: one faces CSGM-DCGAN reconstruction takes
    12–40 s of a core, and choosing Lasso's λ on the validation faces, once per (method, m) and server, 5–20 s
    per m up to 500)."""
    methods: tuple[str, ...]
    max_m: int
    images: int


SWEEP_OFFER = {
    "mnist": SweepOffer(("lasso-pixel", "lasso-dct", "csgm-vae"), max_m=750, images=row(SWEEP, "images").high),
    "faces": SweepOffer(("lasso-dct", "lasso-wavelet", "csgm-dcgan"), max_m=100, images=1),
}


def sweep_images(domain: str, images) -> int:
    """The number of images, within the tab's limit for the domain."""
    return check(replace(row(SWEEP, "images"), high=SWEEP_OFFER[domain].images,
                         label=f"number of images for {domain}"), images)


def sweep_methods(domain: str, methods: list[str]) -> list[str]:
    """The methods (no repeats, in order), each one of the domain's and offered by the tab for it."""
    check_methods(methods, domain)
    offered = SWEEP_OFFER[domain].methods
    for name in methods:
        if name not in offered:
            raise InputError(f"the {domain} sweep offers {', '.join(offered[:-1])} or {offered[-1]}; got {name!r}")
    return list(dict.fromkeys(methods))


def check(row: Field, value):
    """``row.check(value)``, and a blank value is an error too (these rows have no "core default"); a number's
    error always states its range."""
    try:
        out = row.check(value)
    except InputError:
        if row.kind not in (int, float):
            raise
        raise InputError(f"{row.label} must be {row.allowed()}; got {value!r}") from None
    if out is None or (row.kind is list and not out):
        raise InputError(f"choose at least one {row.label}" if row.kind is list
                         else f"{row.label} must be {row.allowed()}; got {value!r}")
    return out




def checked(rows: tuple[Field, ...], *values, **named) -> SimpleNamespace:
    """The values (positional in the rows' order, or by name) each through its row's validator."""
    given = dict(zip((r.name for r in rows), values), **named)
    return SimpleNamespace(**{r.name: check(r, given.get(r.name, r.default)) for r in rows})


COMMANDS = {  # (command, subcommand) → the rows of its flags checked here (the seed for every command)
    ("landscape", "descend"): (STARTS, STEPS, NOISE, METHOD),
    ("landscape", "heatmap"): (STARTS, STEPS, NOISE, METHOD),
    ("landscape", "phase"): (STEPS, NOISE),
    ("landscape", "slice"): (RESTARTS, STEPS, NOISE),
    ("sketch", "fit"): (SKETCH_M, SKETCH_STEPS, LAW),
    ("sketch", "compute"): (LAW,),
    ("sweep", None): (IMAGES,),
}


def check_args(args) -> None:
    """A command's flags (given, not left at None) through the same validators as the tabs' fields."""
    command = (args.command, getattr(args, f"{args.command}_command", None))
    for row in (*COMMANDS.get(command, ()), SEED):
        value = getattr(args, row.name, None)
        if value is not None:
            setattr(args, row.name, row.check(value))


def sweep_ms(domain: str, ms: list, paper_m: dict[str, tuple[int, ...]]) -> list[int]:
    """The sweep's m values: whole numbers among those the tab offers for the domain (the paper's up to its
    ``max_m``), sorted, no repeats."""
    field = Field("ms", int, label="m", choices=())
    allowed = offered_ms(domain, paper_m)
    out = set()
    for value in ms:
        m = field.check(value)
        if m not in allowed:
            raise InputError(f"m = {m} is not offered for {domain}; choose from {', '.join(map(str, allowed))}")
        out.add(m)
    return sorted(out)


def offered_ms(domain: str, paper_m: dict[str, tuple[int, ...]]) -> tuple[int, ...]:
    """The paper's m values for the domain that the Sweep tab offers."""
    return tuple(m for m in paper_m[domain] if m <= SWEEP_OFFER[domain].max_m)
