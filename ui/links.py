"""A copyable link to the Reconstruct tab's settings: the form ↔ the page URL's query parameters.

    ?domain=faces&asset=face-gen-seed-1001&op=inpaint&mask=center&mask_size=32&noise=0.01
     &methods=lasso-dct,csgm-dcgan&seed=0

The link carries the problem (gallery image, operator and its parameters, noise, seed), the methods and
any advanced override; opening the page with it restores the form. A value the core would refuse is
ignored (its field keeps the default) with one warning naming it; nothing is run. See docs/app.md.
"""
from __future__ import annotations

from typing import Callable, Mapping
from urllib.parse import urlencode

import gradio as gr
import torch

from cs_core.assets import get_asset
from cs_core.domains import DOMAINS, get_domain
from cs_core.errors import InputError
from cs_core.operators import OPERATORS, build_operator
from cs_core.operators.gaussian import MAX_M
from cs_core.problem import check_noise
from cs_core.solvers import Options, check_options

from .common import HIDDEN, usable_methods

# query key → form field (the names of ``ui.reconstruct``'s inputs)
KEYS = {"domain": "domain", "asset": "asset", "op": "operator", "m": "m", "mask": "mask",
        "mask_size": "mask_size", "keep": "keep", "factor": "factor", "accel": "accel", "center": "center",
        "lines": "lines", "kernel": "kernel", "blur_size": "blur_size", "sigma": "sigma", "length": "length",
        "angle": "angle", "noise": "noise", "methods": "methods", "seed": "seed", "iters": "iterations",
        "restarts": "restarts", "lr": "lr", "lam": "lam", "csgm_lam": "csgm_lam"}
OPERATOR_KEYS = {"gaussian": ("m",), "inpaint": ("mask",), "superres": ("factor",),
                 "fourier": ("accel", "center", "lines"), "blur": ("kernel", "blur_size")}
CHOICE_KEYS = {"mask": {"center": ("mask_size",), "random": ("keep",), "drawn": ()},  # a choice → its own keys
               "kernel": {"gaussian": ("sigma",), "motion": ("length", "angle")}}
ADVANCED = ("iters", "restarts", "lr", "lam", "csgm_lam")
GRADIO_KEYS = ("view",)  # Gradio's own query parameters (and any starting with "__") are left to Gradio
LABEL = "Link to these settings"
INFO = "copy it: opening it restores this form (nothing runs until Run)"


# ---------------------------------------------------------------- form → link

def _text(value) -> str | None:
    """A query value: whole numbers without ".0", other floats exactly (repr), blanks dropped."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(value) or None
    return str(value).strip()


def query(values: Mapping) -> str:
    """The form's values (by field name) → the link's query string, relevant parameters only (no ``?``).
    An uploaded image or a drawn mask cannot travel in a link: the link leaves the gallery image out then, and
    says ``mask=drawn`` (the visitor paints again)."""
    keys = ["domain", *([] if values.get("upload") else ["asset"]), "op"]
    for key in OPERATOR_KEYS.get(values.get("operator"), ()):
        keys += [key, *CHOICE_KEYS.get(key, {}).get(values.get(KEYS[key]), ())]
    keys += ["noise", "methods", "seed", *ADVANCED]
    pairs = [(key, _text(values.get(KEYS[key]))) for key in keys]
    return urlencode([(k, v) for k, v in pairs if v is not None], safe=",")


def page_url(request: gr.Request | None) -> str:
    """The page's address as the browser sees it (its Referer, so proxies do not matter), without a query."""
    headers = getattr(request, "headers", None) or {}
    referer = headers.get("referer", "")
    return referer.split("#")[0].split("?")[0]


# ---------------------------------------------------------------- link → form

def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"must be a whole number; got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"must be a number; got {text!r}") from None


def _checked(operator: str, param: str, convert: Callable[[str], object], **fixed):
    """An operator's parameter, converted, then checked by the core itself: building these operators is cheap
    (the gaussian matrix is not, hence ``_m``)."""
    def parse(text: str, dom):
        value = convert(text)
        build_operator(operator, dom, {**fixed, param: value}, torch.Generator().manual_seed(0), torch.device("cpu"))
        return value
    return parse


def _m(text: str, dom) -> int:
    m, limit = _whole(text), min(dom.n, MAX_M)
    if not 1 <= m <= limit:
        raise InputError(f"must be from 1 to {limit} for {dom.name}; got {m}")
    return m


def _choice(text: str, choices) -> str:
    if text not in choices:
        raise InputError(f"must be one of {', '.join(choices)}; got {text!r}")
    return text


def _methods(text: str, dom) -> list[str]:
    names, offered = [n.strip() for n in text.split(",") if n.strip()], usable_methods(dom.name)
    wrong = [n for n in names if n not in offered]
    if wrong or not names:
        raise InputError(f"{', '.join(wrong) or 'no method'}: choose from {', '.join(offered)}")
    return list(dict.fromkeys(names))


def _option(field: str, parse: Callable[[str], float]):
    """An advanced override, checked by the core; the form keeps the text as typed."""
    def check(text: str, dom) -> str:
        check_options(Options(**{field: parse(text)}))
        return text
    return check


def _blur_size(text: str, dom) -> str:
    _checked("blur", "size", _whole)(text, dom)
    return text  # a text field


PARSERS = {
    "op": lambda text, dom: _choice(text, list(OPERATORS)),
    "m": _m,
    "mask": lambda text, dom: _choice(text, list(CHOICE_KEYS["mask"])),
    "mask_size": _checked("inpaint", "mask_size", _whole, mask="center"),
    "keep": _checked("inpaint", "keep", _number, mask="random"),
    "factor": _checked("superres", "factor", _whole),
    "accel": _checked("fourier", "accel", _number),
    "center": _checked("fourier", "center", _number),
    "lines": _checked("fourier", "lines", str),
    "kernel": _checked("blur", "kernel", str),
    "blur_size": _blur_size,
    "sigma": _checked("blur", "sigma", _number, kernel="gaussian"),
    "length": _checked("blur", "length", _number, kernel="motion"),
    "angle": _checked("blur", "angle", _number, kernel="motion"),
    "noise": lambda text, dom: check_noise(_number(text)),
    "methods": _methods,
    "seed": lambda text, dom: _whole(text),
    "iters": _option("iterations", _whole), "restarts": _option("restarts", _whole),
    "lr": _option("lr", _number), "lam": _option("lam", _number), "csgm_lam": _option("csgm_lam", _number),
}


def parse(params: Mapping[str, str], domain0: str, defaults_for: Callable[[str], dict]) -> tuple[dict, list[str]]:
    """A link's query → (the form fields to set, by name; what was ignored and why).

    ``domain0`` is the form's initial domain; ``defaults_for(domain)`` the domain-dependent fields a change of
    domain resets (image, m, methods, …). Each bad value is ignored: its field keeps its default."""
    params = {k: v.strip() for k, v in params.items() if not k.startswith("__") and k not in GRADIO_KEYS}
    problems = [f"unknown parameter {k!r}" for k in params if k not in KEYS]
    domain = domain0
    if "domain" in params:
        if params["domain"] in DOMAINS:
            domain = params["domain"]
        else:
            problems.append(f"domain: must be one of {', '.join(DOMAINS)}; got {params['domain']!r}")
    asset = None
    if "asset" in params:
        try:
            found = get_asset(params["asset"])
            if "domain" in params and found.domain != domain:
                raise InputError(f"{found.name} is a {found.domain} image, not {domain}")
            asset, domain = found.name, found.domain
        except InputError as exc:
            problems.append(f"asset: {exc}")
    values = {"domain": domain, **defaults_for(domain)} if params.keys() & {"domain", "asset"} else {}
    if asset is not None:
        values["asset"], values["upload"] = asset, None
    dom = get_domain(domain)
    for key, parse_value in PARSERS.items():
        if key in params:
            try:
                values[KEYS[key]] = parse_value(params[key], dom)
            except InputError as exc:
                problems.append(f"{key}: {exc}")
    return values, problems


# ---------------------------------------------------------------- wiring

def link_box() -> gr.Textbox:
    """The copyable link (placed by the tab where it wants it)."""
    return gr.Textbox(label=LABEL, info=INFO, lines=1, max_lines=3, interactive=False, buttons=["copy"],
                      elem_id="settings-link")


def attach(demo: gr.Blocks, fields: dict[str, gr.components.Component], box: gr.Textbox, domain0: str,
           defaults_for: Callable[[str], dict]):
    """Keep ``box`` showing the link to the form's settings; on page load, restore the form from the URL's query.
    Returns the load event, so the tab chains what must follow the restored values."""
    components = list(fields.values())

    def show_link(data: dict, request: gr.Request):
        values = {name: data[component] for name, component in fields.items()}
        drawn = values.get("operator") == "inpaint" and values.get("mask") == "drawn"
        left_out = [what for what, missing in (("an uploaded image", values.get("upload")), ("a drawn mask", drawn))
                    if missing]
        return gr.update(value=f"{page_url(request)}?{query(values)}",
                         label=LABEL + "".join(f" · {what} is not part of a link" for what in left_out))

    def restore(request: gr.Request = None):
        params = dict(getattr(request, "query_params", None) or {})
        values, problems = parse(params, domain0, defaults_for)
        if problems:
            gr.Warning("This link's settings were partly ignored (those fields keep their defaults): "
                       + "; ".join(problems), duration=None)
        return [values.get(name, gr.skip()) for name in fields]

    # Raw values (preprocess=False): the link shows the form as it is, even while a change of domain has narrowed
    # the methods' choices before their new value arrives (Gradio would refuse the old value as an input).
    link = dict(preprocess=False, concurrency_limit=None, **HIDDEN)
    gr.on([c.change for c in components], show_link, set(components), [box], **link)
    loaded = demo.load(restore, None, components, concurrency_limit=None, **HIDDEN)
    loaded.then(show_link, set(components), [box], **link)
    return loaded
