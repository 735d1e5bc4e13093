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
from cs_core.settings import BY_NAME as FIELD
from cs_core.settings import FIELDS as SETTINGS

from .common import HIDDEN, usable_methods

# query key → form field, and what belongs to what, all from the settings' rows (``cs_core.settings.FIELDS``)
KEYS = {f.key: f.name for f in SETTINGS if f.key}
OPERATOR_KEYS = {op: tuple(f.key for f in SETTINGS if f.operator == op and f.key and not f.choice) for op in OPERATORS}
CHOICE_KEYS = {FIELD[name].key: {value: tuple(f.key for f in SETTINGS if f.choice == (name, value) and f.key)
                                 for value in FIELD[name].choices}
               for name in dict.fromkeys(f.choice[0] for f in SETTINGS if f.choice)}  # a choice → its own keys
ADVANCED = tuple(f.key for f in SETTINGS if f.advanced)
FIELDS = ("upload", *KEYS.values())  # the form fields the link reads (an upload only to leave the asset out)
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

def _m(value: int, dom) -> int:
    limit = min(dom.n, MAX_M)
    if not 1 <= value <= limit:
        raise InputError(f"must be from 1 to {limit} for {dom.name}; got {value}")
    return value


def _methods(names: list[str], dom) -> list[str]:
    offered = usable_methods(dom.name)
    wrong = [n for n in names if n not in offered]
    if wrong or not names:
        raise InputError(f"{', '.join(wrong) or 'no method'}: choose from {', '.join(offered)}")
    return list(dict.fromkeys(names))


def _in_operator(field):
    """An operator's parameter, checked by the core itself with the choice it belongs to: building these operators
    is cheap (the gaussian matrix is not, hence ``_m``)."""
    def check(value, dom):
        fixed = {FIELD[field.choice[0]].target: field.choice[1]} if field.choice else {}
        build_operator(field.operator, dom, {**fixed, field.target: value}, torch.Generator().manual_seed(0),
                       torch.device("cpu"))
        return value
    return check


def _core_check(field):
    """The limits the field's validator cannot know (they depend on the domain), checked by the core."""
    if field.name == "m":
        return _m
    if field.name == "methods":
        return _methods
    if field.operator and not field.choices:
        return _in_operator(field)
    return lambda value, dom: value


def _parser(field):
    """A link's text → the field's value: its validator, then the core's check; a field left blank for the default
    keeps the text as typed (the form holds text there)."""
    core = _core_check(field)

    def parse_value(text: str, dom):
        try:
            value = field.check(text)
        except InputError as exc:  # the warning names the key already
            raise InputError(str(exc).removeprefix(f"{field.label} ")) from None
        if value is None:
            raise InputError(f"must not be blank; got {text!r}")
        value = core(value, dom)
        return text if field.blank else value
    return parse_value


PARSERS = {f.key: _parser(f) for f in SETTINGS if f.key and f.name not in ("domain", "asset")}


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
