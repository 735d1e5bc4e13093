"""The settings link (ui/links.py): form → query → form is the identity; bad values are ignored, with a reason."""
from urllib.parse import parse_qsl

import pytest

from ui import links
from ui.reconstruct import form_defaults


def parse(query: str):
    return links.parse(dict(parse_qsl(query, keep_blank_values=True)), "mnist", form_defaults)


def test_inpaint_settings_round_trip():
    form = {"asset": "face-gen-seed-1001", "upload": None, "domain": "faces", "operator": "inpaint", "m": 500,
            "mask": "center", "mask_size": 32, "keep": 0.5, "factor": 4, "noise": 0.01,
            "methods": ["lasso-dct", "csgm-dcgan"], "iterations": "200", "restarts": "", "lr": "", "lam": "",
            "csgm_lam": "0.002", "seed": 3}
    query = links.query(form)
    assert query == ("domain=faces&asset=face-gen-seed-1001&op=inpaint&mask=center&mask_size=32&noise=0.01"
                     "&methods=lasso-dct,csgm-dcgan&seed=3&iters=200&csgm_lam=0.002")
    values, problems = parse(query)
    assert problems == []
    relevant = {"asset", "domain", "operator", "mask", "mask_size", "noise", "methods", "iterations", "csgm_lam",
                "seed"}
    assert {k: values[k] for k in relevant} == {k: form[k] for k in relevant}
    assert values["m"] == 500 and values["upload"] is None  # the domain's defaults for fields the link leaves out


@pytest.mark.parametrize("operator, extra, expected", [
    ("gaussian", {}, "m=25"), ("superres", {}, "factor=7"), ("inpaint", {"mask": "random"}, "mask=random&keep=0.3"),
    ("inpaint", {"mask": "drawn"}, "mask=drawn"), ("fourier", {}, "accel=4&center=0.08&lines=variable"),
    ("blur", {}, "kernel=gaussian&sigma=1.5"), ("blur", {"kernel": "motion", "blur_size": "9"},
                                                 "kernel=motion&length=7&angle=-30&blur_size=9")])
def test_only_the_operators_parameters_travel(operator, extra, expected):
    form = {"domain": "mnist", "asset": "digit-test-3856", "operator": operator, "m": 25, "mask": "center",
            "mask_size": 14, "keep": 0.3, "factor": 7.0, "accel": 4.0, "center": 0.08, "lines": "variable",
            "kernel": "gaussian", "blur_size": "", "sigma": 1.5, "length": 7, "angle": -30.0, "noise": 0.0,
            "methods": ["lasso-dct"], "seed": 0, **extra}
    query = links.query(form)
    assert query == f"domain=mnist&asset=digit-test-3856&op={operator}&{expected}&noise=0&methods=lasso-dct&seed=0"
    values, problems = parse(query)
    assert not problems and values["operator"] == operator
    assert {k: values[k] for k in values if k not in form_defaults("mnist") and k != "domain"} == \
        {k: form[k] for k in values if k not in form_defaults("mnist") and k != "domain"}


def test_an_upload_is_not_in_the_link():
    query = links.query({"domain": "mnist", "asset": "digit-test-3856", "upload": "/tmp/x.png", "operator": "gaussian",
                         "m": 100, "methods": ["lasso-dct"]})
    assert "asset" not in query


def test_the_domain_follows_the_asset_and_resets_its_fields():
    values, problems = parse("asset=face-gen-seed-1002")
    assert not problems
    assert values["domain"] == "faces" and values["m"] == 500 and "csgm-dcgan" in values["methods"]


@pytest.mark.parametrize("query, key", [
    ("domain=cats", "domain"), ("m=abc", "m"), ("m=785", "m"), ("op=deblur", "op"), ("mask_size=28", "mask_size"),
    ("keep=0", "keep"), ("factor=3", "factor"), ("noise=-1", "noise"), ("methods=csgm-dcgan", "methods"),
    ("iters=0", "iters"), ("restarts=65", "restarts"), ("lr=0", "lr"), ("seed=1.5", "seed"),
    ("asset=no-such-image", "asset"), ("domain=mnist&asset=face-gen-seed-1000", "asset"), ("mask=brush", "mask"),
    ("accel=40", "accel"), ("center=2", "center"), ("lines=spiral", "lines"), ("kernel=box", "kernel"),
    ("blur_size=99", "blur_size"), ("sigma=0", "sigma"), ("length=0", "length"), ("angle=720", "angle")])
def test_a_bad_value_is_ignored_with_its_reason(query, key):
    values, problems = parse(query + "&lam=0.5")
    assert len(problems) == 1 and problems[0].startswith(f"{key}: "), problems
    field = links.KEYS[key]
    default = {"domain": "mnist", **form_defaults("mnist")}.get(field)
    assert values.get(field, default) == default  # the field keeps the form's default
    assert values["lam"] == "0.5"  # the good values still apply


def test_unknown_parameters_are_named_and_gradios_own_left_alone():
    values, problems = parse("colour=red&__theme=dark&view=api&m=50")
    assert problems == ["unknown parameter 'colour'"] and values == {"m": 50}
