"""What the app lets one Reconstruct run ask for: its dense matrices within ``MATRIX_BUDGET_MIB``, and its planned
time within the app's wall cap on the CPU that ``run_costs.json`` was measured on.

**Memory.** A Gaussian A takes 4·m·n bytes, and some methods copy it (``Method.matrix_copies``: a Lasso keeps its
design AΨ, the posterior's float64 chains cast A to float64), so the app allows m ≤ ``MATRIX_BUDGET_MIB`` MiB /
(4·n·(1 + the copies of the methods chosen)): faces m ≤ 3413 without copies, 1706 with one Lasso basis, 1137 with
two or with posterior samples, 853 with three. Everything else a run allocates is small beside it (docs/app.md,
measured).

**Time.** The planned seconds of a run are the sum over its methods of

    t(method, domain, m) · (planned iterations / default iterations) · max(1, starts / default starts)

with t the wall time of the method alone at its defaults on a Gaussian problem, measured at two m
(``python -m cs_core.run_budget``, ``make bench-costs``): t at the smaller m, growing linearly with m where it grew
(a method that stopped earlier at the larger m keeps the first). Operators other than the Gaussian matrix apply
in O(n log n) or less and are costed at the smaller m. Each factor errs high: CSGM prunes its restarts and stops
once its loss settles, so more steps or starts cost less than in proportion, and fewer starts are not counted as
saving anything (the survivor runs its steps alone either way). A run planned over ``CAP_SHARE`` of the cap is refused
before it starts, naming what to lower. On a GPU the table does not apply and only the cap stops a run.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import torch

from .domains import DOMAINS, get_domain
from .errors import InputError
from .operators import gaussian
from .solvers import MAX_ITERATIONS, MAX_RESTARTS, METHODS, Options, methods_for

MATRIX_BUDGET_MIB = 160
SNAPSHOT_EVERY = 5      # the app's runs report a snapshot every 5 iterations, and the costs are measured so
CAP_SHARE = 0.6         # of the wall cap: at the edge, runs measured took up to 1.2 × their plan (docs/app.md)
COSTS = Path(__file__).with_name("run_costs.json")
LOW_M = 100             # the table's smaller m (and the cost of the operators that are not a dense matrix)


def max_gaussian_m(domain: str, methods=()) -> int:
    """The largest m the app allows for a Gaussian A in ``domain`` with these methods (see the module's doc)."""
    n = get_domain(domain).n
    return min(n, gaussian.MAX_M, MATRIX_BUDGET_MIB * 2 ** 20 // (4 * n * (1 + _copies(methods))))


def _copies(methods) -> int:
    return sum(METHODS[name].matrix_copies for name in methods if name in METHODS)


def matrix_note(domain: str, methods=()) -> str:
    """Why m is bounded, as the app's error says it."""
    copies = _copies(methods)
    copies = (", and the copy these methods make of it," if copies == 1 else
              f", and the {copies} copies these methods make of it," if copies else "")
    return f"the app keeps a {domain} Gaussian matrix{copies} within {MATRIX_BUDGET_MIB} MiB"


def _table() -> dict:
    return _read(COSTS)


@lru_cache(maxsize=2)
def _read(path: Path) -> dict:
    """The cost table, parsed once per file (a refusal bisects the plan some 15 times)."""
    return json.loads(path.read_text())


def method_seconds(name: str, domain: str, m: int | None, options: Options, table: dict | None = None) -> float:
    """The planned wall seconds of one method (see the module's doc); m None: an operator that is not a matrix."""
    row = (table or _table())["domains"][domain]
    (low, high), (t_low, t_high) = row["m"], row["seconds"][name]
    slope = max(0.0, (t_high - t_low) / (high - low))  # a method faster at the larger m (it stopped early) costs t_low
    seconds = t_low + slope * (max(m, low) - low if m is not None else 0)
    method = METHODS[name]
    return seconds * method.iterations(options) / method.iterations(Options()) \
        * max(1.0, method.starts(options) / method.starts(Options()))


def planned_seconds(domain: str, m: int | None, methods: list[str], options: Options) -> dict[str, float]:
    """Each method's planned wall seconds (see the module's doc)."""
    table = _table()
    return {name: method_seconds(name, domain, m, options, table) for name in methods}


def largest(field: str, domain: str, m: int | None, methods: list[str], options: Options, cap: float) -> int:
    """The largest value of ``options.<field>`` (iterations or restarts) whose run is planned within ``CAP_SHARE``
    of the cap (0 if none is)."""
    def fits(value):
        return sum(planned_seconds(domain, m, methods, replace(options, **{field: value})).values()) \
            <= CAP_SHARE * cap
    low, high = 0, MAX_ITERATIONS if field == "iterations" else MAX_RESTARTS
    while low < high:  # the planned time grows with either
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return low


def check_time(domain: str, m: int | None, methods: list[str], options: Options, cap: float) -> float:
    """The run's planned seconds; an ``InputError`` naming what to lower when they exceed ``CAP_SHARE`` of the cap."""
    planned = planned_seconds(domain, m, methods, options)
    total, allowed = sum(planned.values()), CAP_SHARE * cap
    if total <= allowed:
        return total
    heaviest = sorted(planned, key=planned.get, reverse=True)
    parts = ", ".join(f"{METHODS[n].label} {planned[n]:.0f} s" for n in heaviest[:3])
    lower = [f"{field} to at most {value}" for field in ("iterations", "restarts") if getattr(options, field)
             and (value := largest(field, domain, m, methods, options, cap))]
    advice = f"lower {' or '.join(lower)}, or choose fewer methods" if lower else "choose fewer methods"
    raise InputError(f"this run is planned at about {total:.0f} s on this CPU ({parts}), over the app's "
                     f"{allowed:.0f} s ({CAP_SHARE:.0%} of its {cap:g} s limit): {advice}")


def measure(domains=tuple(DOMAINS), seed: int = 0) -> dict:
    """Each method's wall time alone at its defaults with the app's snapshots, on the domain's first gallery image
    measured by a Gaussian A at ``LOW_M`` and at the app's largest m without copies; priors loaded beforehand (the
    app keeps them)."""
    from .assets import list_assets, load_truth
    from .priors import PRIORS
    from .problem import make_problem
    from .session import run_methods
    out = {"measured": time.strftime("%Y-%m-%d"), "torch_threads": torch.get_num_threads(), "domains": {}}
    for domain in domains:
        dom = get_domain(domain)
        truth = load_truth(dom, asset=list_assets(domain)[0].name)
        for prior in PRIORS.values():
            if prior.domain == domain:
                prior.load(torch.device("cpu"))
        ms = (LOW_M, max_gaussian_m(domain))
        seconds = {}
        for name in methods_for(domain):
            seconds[name] = []
            for m in ms:
                started = time.perf_counter()
                problem = make_problem(truth, dom, "gaussian", {"m": m}, 0.0, seed, torch.device("cpu"))
                for _ in run_methods(problem, [name], every=SNAPSHOT_EVERY):
                    pass
                seconds[name].append(round(time.perf_counter() - started, 2))
            print(domain, name, seconds[name], flush=True)
        out["domains"][domain] = {"m": list(ms), "seconds": seconds}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cs_core.run_budget",
                                     description="measure each method's wall time at its defaults into run_costs.json")
    parser.add_argument("--out", type=Path, default=COSTS)
    args = parser.parse_args(argv)
    args.out.write_text(json.dumps(measure(), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
