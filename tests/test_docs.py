"""The docs follow the code: the README's method table and docs/app.md name every registered method and
operator."""
import re
from pathlib import Path

import pytest

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
