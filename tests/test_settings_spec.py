"""The Reconstruct settings' one table (cs_core.settings.FIELDS) against everything derived from it: the form's
widgets and the /reconstruct API, the settings link, the examples, the load test's requests and the CLI's flags."""
import argparse
import inspect
import math

import pytest

from cs_core.cli import build_parser
from cs_core.errors import InputError
from cs_core.operators import OPERATORS
from cs_core.operators import cli as operator_cli
from cs_core.settings import BY_NAME, FIELDS, ReconstructSettings

gr = pytest.importorskip("gradio")

from ui import links, loadtest  # noqa: E402
from ui.reconstruct import form, handlers, presets  # noqa: E402


def reconstruct_help() -> str:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["reconstruct"].format_help()


def test_the_api_takes_one_widget_per_row_in_the_rows_order():
    import torch

    from ui import reconstruct
    with gr.Blocks() as demo:
        reconstruct.build(demo, torch.device("cpu"))
    ids = {c["id"]: c["props"].get("elem_id") for c in demo.config["components"]}
    run = next(d for d in demo.config["dependencies"] if d.get("api_name") == "reconstruct")
    assert [ids[i] for i in run["inputs"]] == [form.elem_id(f.name) for f in FIELDS]
    assert list(inspect.signature(handlers.reconstruct).parameters) == [*form.NAMES, "request"]
    assert set(form.WIDGETS) <= set(form.NAMES)


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_each_row_reaches_the_link_and_the_cli(field):
    if field.key:
        assert links.KEYS[field.key] == field.name
    if field.flag:
        assert f" {field.flag} " in reconstruct_help() or f"[{field.flag} " in reconstruct_help()


def test_the_link_reads_exactly_the_rows_with_a_key():
    assert set(links.KEYS.values()) == {f.name for f in FIELDS if f.key}
    assert set(links.FIELDS) <= set(form.NAMES)


def test_examples_set_only_form_fields_and_read_back_as_valid_settings():
    figures = presets.presets()
    assert figures
    for label, fields in figures:
        assert set(fields) <= set(form.EXAMPLE_NAMES), label
    for row in presets.examples()[0]:
        values = dict(zip(form.EXAMPLE_NAMES, row))
        settings = form.settings(values)
        assert settings.domain == values["domain"] and settings.methods == values["methods"]


def test_the_load_tests_request_names_every_required_parameter():
    request = loadtest.client_arguments(loadtest.Settings(), seed=7)
    required = [n for n, p in form.SIGNATURE.parameters.items() if p.default is inspect.Parameter.empty]
    assert list(request) == required and request["seed"] == 7


def test_the_cli_gives_each_operator_its_rows_by_their_core_names():
    args = build_parser().parse_args(["reconstruct", "--asset", "x", "--domain", "mnist", "--operator", "blur",
                                      "--method", "tv", "--size", "5", "--mask-size", "3"])
    params = operator_cli.params(args, OPERATORS)
    assert params["size"] == 5 and params["mask_size"] == 3
    assert set(params) == {f.target for f in FIELDS if f.operator and f.kind is not object}
    settings = ReconstructSettings.checked({"operator": "blur", "blur_size": "5"})
    assert settings.params() == {"kernel": "gaussian", "size": 5, "sigma": 1.5, "length": 9, "angle": 0.0}


@pytest.mark.parametrize("field", [f for f in FIELDS if f.kind in (int, float) and (f.low, f.high) != (None, None)],
                         ids=lambda f: f.name)
def test_each_validator_takes_its_limits_and_refuses_beyond_them(field):
    step = 1 if field.kind is int else 1e-6
    for limit, outside in ((field.low, -step), (field.high, step)):
        if limit is None:
            continue
        if not (field.above and limit == field.low):
            assert field.check(limit) == limit
        with pytest.raises(InputError) as refused:
            field.check(limit + outside)
        assert str(refused.value).startswith(f"{field.label} must be") and f"{limit:g}" in str(refused.value)
    with pytest.raises(InputError) as refused:
        field.check("nan" if field.kind is float else "1.5")
    assert str(refused.value).startswith(field.label)
    if field.kind is float:
        with pytest.raises(InputError):
            field.check(math.inf)


def test_a_blank_override_is_the_default_and_text_is_read_as_a_number():
    assert BY_NAME["iterations"].check("  ") is None and BY_NAME["iterations"].check("200") == 200
    assert BY_NAME["lam"].check("1e-3") == pytest.approx(1e-3)
    with pytest.raises(InputError, match=r"λ \(lam\) must be a number"):
        BY_NAME["lam"].check("big")
