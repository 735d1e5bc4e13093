"""The test suite's own rules: test modules share helpers through ``helpers.py`` and the fixtures of
``conftest.py``, never by importing each other; a module that drives Chromium is marked ``browser`` and
``server``, and a test that starts the app through ``running_app`` is marked ``server`` by conftest's hook (so
``make test-fast`` leaves them out)."""
import ast
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

TESTS = Path(__file__).resolve().parent
MODULES = sorted(TESTS.glob("test_*.py"))


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def module_marks(tree: ast.Module) -> set[str]:
    """The ``pytest.mark.<name>`` names in the module-level ``pytestmark``."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in node.targets):
            return {n.attr for n in ast.walk(node.value)
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and n.value.attr == "mark"}
    return set()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_test_modules_share_helpers_only_through_helpers_and_fixtures(path):
    names = imported(ast.parse(path.read_text()))
    assert not {n for n in names if n.startswith("test_")}, f"{path.name} imports another test module"
    assert "app_server" not in names, f"{path.name}: use the fixtures of conftest.py (running_app, open_page, ...)"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_browser_modules_are_marked(path):
    tree = ast.parse(path.read_text())
    playwright = "playwright" in imported(tree) or any(                 # pytest.importorskip("playwright...")
        isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "importorskip" and n.args
        and str(getattr(n.args[0], "value", "")).startswith("playwright") for n in ast.walk(tree))
    if playwright:
        marks = module_marks(tree)
        assert {"browser", "server"} <= marks, f"{path.name} drives Chromium: pytestmark needs browser and server"


def test_the_rules_see_the_suite():
    """The checks above parse real modules: the browser tests are found and marked."""
    marked = {p.name for p in MODULES if "browser" in module_marks(ast.parse(p.read_text()))}
    assert {"test_app_browser.py", "test_kiosk_browser.py"} <= marked


def test_a_test_using_running_app_is_marked_server_by_itself(pytester):
    """conftest's hook: the ``server`` marker follows the fixture, even without a ``pytestmark``."""
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    pytester.makepyfile(test_one="def test_uses(running_app):\n    pass\n\ndef test_plain():\n    pass\n")
    result = pytester.runpytest_inprocess("-m", "server", "-q")
    result.assert_outcomes(passed=1, deselected=1)
