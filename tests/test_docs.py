"""The docs follow the code: the README's method table and docs/app.md name every registered method and
operator; the README's Layout lists every module and package of cs_core/ and ui/, and its Command line every
command and runnable module, with flags that exist (and nothing that does not)."""
import argparse
import importlib.util
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cs_core.cli import build_parser
from cs_core.operators import OPERATORS
from cs_core.solvers import ALL_DOMAINS, METHODS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
APP_DOC = (ROOT / "docs" / "app.md").read_text()


def readme_section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_is_documented(name):
    """The README's method table (with the method's domains) and docs/app.md's API table name every method."""
    assert f"`{name}`" in APP_DOC
    rows = [line.split("|")[1:-1] for line in readme_section("What is compared").splitlines()
            if line.startswith("| `")]
    for cells in rows:
        names = re.findall(r"`([^`]+)`", cells[0])
        if name in names:       # a row may name several methods, its domains cell one domain each, or "all"
            listed = [d.strip() for d in cells[-1].split(",")]
            domains = ALL_DOMAINS if listed == ["all"] else (listed[names.index(name)],)
            assert set(domains) == set(METHODS[name].domains), (name, cells[-1])
            return
    pytest.fail(f"{name} is missing from the README's method table")


@pytest.mark.parametrize("name", list(OPERATORS))
def test_every_operator_is_documented(name):
    assert f"`{name}`" in readme_section("What is compared")
    assert f"`{name}`" in APP_DOC


def code_block(title: str) -> str:
    """The first ``` block of a README section."""
    section = readme_section(title)
    start = section.index("```\n") + 4
    return section[start:section.index("```", start)]


PATH_TOKEN = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+(?:\.py|\.md|/))(?![\w])")


def layout_lines():
    """(the top-level entry a line belongs to, the paths it names) per line of the Layout block."""
    top = None
    for line in code_block("Layout").splitlines():
        tokens = PATH_TOKEN.findall(line)
        if line and not line[0].isspace():
            top = tokens[0]
        yield top, tokens


@pytest.mark.parametrize("package", ["cs_core", "ui"])
def test_layout_lists_every_module_and_package(package):
    entries = {p.name for p in (ROOT / package).glob("*.py") if p.name != "__init__.py"}
    entries |= {f"{p.name}/" for p in (ROOT / package).iterdir() if (p / "__init__.py").exists()}
    listed = {token for top, tokens in layout_lines() if top == f"{package}/" for token in tokens}
    assert entries - listed == set(), f"README's Layout does not list these of {package}/"


def test_layout_lists_nothing_that_does_not_exist():
    """Each path named exists: from the root, or in the folder of the line's top-level entry (at any depth)."""
    missing = []
    for top, tokens in layout_lines():
        for token in tokens:
            name = token.rstrip("/")
            inside = (ROOT / top).rglob(name) if top.endswith("/") else ()
            if not (ROOT / name).exists() and not any(p.is_dir() == token.endswith("/") for p in inside):
                missing.append((top, token))
    assert not missing


def cli_entries() -> list[list[str]]:
    """The Command line block's commands, each as its words (continuation lines joined)."""
    entries = []
    for line in code_block("Command line").splitlines():
        if line.startswith("python -m "):
            entries.append(line.split())
        elif line.strip():
            entries[-1] += line.split()
    return entries


def subcommands(parser, path=()):
    """(path, parser) of every leaf command, e.g. (("landscape", "rho"), ...)."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield path, parser
    for action in actions:
        for name, sub in action.choices.items():
            yield from subcommands(sub, path + (name,))


def flags(words: list[str]) -> set[str]:
    return {m for w in words for m in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", w)}


def test_command_line_lists_every_command_with_existing_flags():
    leaves = dict(subcommands(build_parser()))
    listed = {}
    for words in cli_entries():
        if words[2] == "cs_core":
            path = next((p for p in leaves if tuple(words[3:3 + len(p)]) == p), None)
            assert path, f"README's Command line lists a command that does not exist: {' '.join(words[:5])}"
            options = {o for a in leaves[path]._actions for o in a.option_strings}
            assert flags(words) <= options, (path, flags(words) - options)
            listed[path] = True
    assert set(leaves) - set(listed) == set(), "commands missing from README's Command line"


def test_command_line_lists_every_runnable_module_with_existing_flags():
    """Every module with a ``__main__`` block (the load test, the trainer, ...) is there, and its flags exist."""
    runnable = {".".join(p.relative_to(ROOT).with_suffix("").parts)
                for package in ("cs_core", "ui") for p in (ROOT / package).rglob("*.py")
                if 'if __name__ == "__main__"' in p.read_text()}
    entries = [w for w in cli_entries() if w[2] != "cs_core"]
    assert runnable - {w[2] for w in entries} == set(), "modules missing from README's Command line"
    for words in entries:
        assert importlib.util.find_spec(words[2]), f"no module {words[2]}"
        if not flags(words):
            continue
        command = list(itertools.takewhile(lambda w: re.fullmatch(r"[a-z][a-z-]*", w), words[3:]))
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        help_text = subprocess.run([sys.executable, "-m", words[2], *command, "--help"], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=120).stdout
        assert flags(words) <= flags(help_text.split()), (words[2], command, flags(words) - flags(help_text.split()))
