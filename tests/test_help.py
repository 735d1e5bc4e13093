"""``--help`` lists the registries: every method with its domains and what its iterations are, every operator."""
import os
import re
import subprocess
import sys
from pathlib import Path

from cs_core.cli import build_parser
from cs_core.operators import OPERATORS
from cs_core.priors import PRIORS
from cs_core.solvers import METHODS, OPTIMISER_LABELS, Options
from cs_core.solvers.csgm import OPTIMISERS

ROOT = Path(__file__).resolve().parent.parent


def commands():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return parser, sub.choices


def method_line(text: str, name: str) -> str:
    """The help's line for ``name``, joined with its wrapped continuation lines."""
    match = re.search(rf"^  {re.escape(name)} +(.*(?:\n {{10,}}.*)*)", text, re.M)
    assert match, f"{name} is not listed"
    return " ".join(match.group(1).split())


def check_methods(text: str):
    for name, method in METHODS.items():
        line = method_line(text, name)
        assert line.startswith(", ".join(method.domains) + " "), (name, line)
        assert f"default {method.iterations(Options())}" in line, (name, line)


def check_operators(text: str, names):
    for name in names:
        assert re.search(rf"^  {name} +\S", text, re.M), f"operator {name} is not listed"


def test_top_level_help_lists_every_method_and_operator():
    parser, _ = commands()
    text = parser.format_help()
    check_methods(text)
    check_operators(text, OPERATORS)


def test_every_command_taking_methods_or_operators_lists_them():
    _, choices = commands()
    seen = set()
    for name, p in choices.items():
        dests = {a.dest: a for a in p._actions}
        text = p.format_help()
        if {"method", "methods"} & dests.keys():
            check_methods(text)
            seen.add(name)
        if "operator" in dests:
            names = dests["operator"].choices or OPERATORS
            assert set(names) <= set(OPERATORS)
            check_operators(text, names)
            for other in set(OPERATORS) - set(names):     # an operator the command refuses is not offered
                assert not re.search(rf"^  {other} +\S", text, re.M), (name, other)
            seen.add(name)
    assert {"reconstruct", "sweep", "beyond"} <= seen


def test_iterations_are_described_per_method():
    """What --iters counts follows each method: CSGM's line names the prior's own optimiser (DCGAN: L-BFGS)."""
    assert set(OPTIMISER_LABELS) == set(OPTIMISERS)
    _, choices = commands()
    text = choices["reconstruct"].format_help()
    assert "Adam steps (CSGM)" not in text
    for prior in PRIORS.values():
        line = method_line(text, f"csgm-{prior.name}")
        assert OPTIMISER_LABELS[prior.defaults.optimiser] in line
        assert f"from {prior.defaults.restarts} starts" in line
    assert "FISTA" in method_line(text, "lasso-dct") and "(300 with --lam)" in method_line(text, "lasso-dct")
    assert "Chambolle–Pock" in method_line(text, "tv")


def test_help_of_the_module_itself():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "cs_core", "reconstruct", "--help"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    check_methods(out.stdout)
    check_operators(out.stdout, OPERATORS)
