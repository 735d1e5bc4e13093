"""The Reconstruct form, derived from ``cs_core.settings.FIELDS``: one widget per row (``WIDGETS`` adds how it looks
where the plain one derived from the row would not do), the /reconstruct API's parameters in the rows' order, and the
one place where the form's positional values become a typed ``ReconstructSettings``.
"""
from __future__ import annotations

import inspect
from dataclasses import replace

import gradio as gr
import numpy as np

from cs_core.devices import DEVICE_CHOICES, describe_device
from cs_core.domains import get_domain
from cs_core.errors import InputError
from cs_core.priors import PRIORS
from cs_core.run_budget import matrix_note, max_gaussian_m
from cs_core.settings import BY_NAME, FIELDS, Field, ReconstructSettings
from cs_core.solvers import METHODS, Options
from cs_core.tab_settings import SEED

from ..common import DOMAIN_CHOICES, as_int, raw
from .gallery import asset_choices

NAMES = tuple(f.name for f in FIELDS)  # the /reconstruct API's parameters, in order
EXAMPLE_NAMES = tuple(n for n in NAMES if n != "mask_editor")  # what an example sets (a drawn mask is the visitor's)
MASK_BRUSH = "#ff00ff"                 # the colour a visitor paints the hidden region with
OPERATOR_CHOICES = [("Gaussian matrix", "gaussian"), ("Inpainting", "inpaint"), ("Super-resolution", "superres"),
                    ("MRI (k-space lines)", "fourier"), ("Blur", "blur")]


def default_text(setting: str) -> str:
    """Placeholder of an advanced field: each method's default."""
    parts = [f"{METHODS[name].iterations(Options())} {label}" for name, label in
             (("lasso-dct", "Lasso"), ("tv", "TV"), ("dip", "DIP"))] if setting == "steps" else []
    parts += [f"{getattr(p.defaults, setting):g} {p.name.upper()}" for p in PRIORS.values()]
    return "default: " + ", ".join(parts)


def _limits(name: str) -> dict:
    f = BY_NAME[name]
    return {k: v for k, v in (("minimum", f.low), ("maximum", f.high)) if v is not None}


# name → (component, its look); the value is the row's default unless the layout passes one
WIDGETS = {
    "asset": (gr.Dropdown, lambda: dict(choices=asset_choices(), label="Gallery image")),
    "upload": (gr.Image, lambda: dict(type="filepath", image_mode=None, sources=["upload", "webcam", "clipboard"],
                                      height=170, label="Your image or a webcam photo (faces: cropped to the face)")),
    "domain": (gr.Radio, lambda: dict(choices=DOMAIN_CHOICES, label="Domain")),
    "operator": (gr.Radio, lambda: dict(choices=OPERATOR_CHOICES, label="Operator")),
    "m": (gr.Number, lambda: dict(precision=0, label="m, the number of measurements")),
    "mask": (gr.Radio, lambda: dict(choices=[("centre square", "center"), ("random pixels", "random"),
                                             ("drawn by you", "drawn")], label="Hidden region")),
    "mask_size": (gr.Number, lambda: dict(precision=0, label="side of the hidden centre square (pixels)")),
    "keep": (gr.Slider, lambda: dict(minimum=0.01, maximum=BY_NAME["keep"].high, step=0.01,
                                     label="fraction of pixels kept", visible=False)),
    "factor": (gr.Number, lambda: dict(precision=0, label="factor (divides the side: 2, 4, 7, 14 for digits; "
                                                          "2, 4, 8, 16, 32 for faces)")),
    "noise": (gr.Number, lambda: dict(label="noise σ per measurement", **_limits("noise"))),
    "methods": (gr.CheckboxGroup, lambda: dict(choices=[(m_.label, n) for n, m_ in METHODS.items()], label="Methods")),
    "iterations": (gr.Textbox, lambda: dict(label="iterations / Adam steps", placeholder=default_text("steps"),
                                            min_width=120)),
    "restarts": (gr.Textbox, lambda: dict(label="CSGM restarts", placeholder=default_text("restarts"), min_width=120)),
    "lr": (gr.Textbox, lambda: dict(label="CSGM / DIP learning rate", placeholder=default_text("lr"), min_width=120)),
    "lam": (gr.Textbox, lambda: dict(label="Lasso / TV λ", min_width=120, placeholder="default: Lasso per image "
                                     "(cross-validation / σ√m), TV a fraction of ‖Aᵀy‖∞")),
    "csgm_lam": (gr.Textbox, lambda: dict(label="CSGM λ (‖z‖² weight)", placeholder=default_text("lam"),
                                          min_width=120)),
    "seed": (gr.Number, lambda: dict(precision=0, label="seed", min_width=120)),
    "device": (gr.Radio, lambda: dict(choices=list(DEVICE_CHOICES))),
    "mask_editor": (gr.ImageEditor, lambda: dict(
        type="numpy", image_mode="RGBA", sources=[], transforms=[], layers=False, visible=False,
        brush=gr.Brush(colors=[MASK_BRUSH], default_color=MASK_BRUSH, color_mode="fixed", default_size=16),
        eraser=gr.Eraser(default_size=16), label="Paint what to hide", height=300)),
    "accel": (gr.Number, lambda: dict(label="acceleration R (keep 1 line in R)", min_width=120, **_limits("accel"))),
    "center": (gr.Number, lambda: dict(label="fully sampled centre (fraction of lines)", min_width=120,
                                       **_limits("center"))),
    "lines": (gr.Radio, lambda: dict(choices=[("uniformly random", "random"), ("variable density", "variable")],
                                     label="other lines")),
    "kernel": (gr.Radio, lambda: dict(choices=[("Gaussian", "gaussian"), ("motion", "motion")], label="kernel")),
    "blur_size": (gr.Textbox, lambda: dict(label="kernel size (pixels)", placeholder="default: fits the kernel",
                                           min_width=100)),
    "sigma": (gr.Number, lambda: dict(label="σ (pixels)", min_width=100, **_limits("sigma"))),
    "length": (gr.Number, lambda: dict(label="length (pixels)", visible=False, min_width=100, **_limits("length"))),
    "angle": (gr.Number, lambda: dict(label="angle (degrees)", visible=False, min_width=100, **_limits("angle"))),
}


def elem_id(name: str) -> str:
    return name.replace("_", "-")


def _plain(name: str):
    """A row without an entry in ``WIDGETS``: a text box if blank means the default, radio buttons for a choice, else
    a number box within the row's limits; shown while its choice (if any) is made."""
    f = BY_NAME[name]
    shown = dict(visible=f.choice is None or BY_NAME[f.choice[0]].default == f.choice[1], label=f.label)
    if f.blank:
        return gr.Textbox, lambda: dict(placeholder="default: the core's", **shown)
    if f.choices:
        return gr.Radio, lambda: dict(choices=list(f.choices), **shown)
    return gr.Number, lambda: dict(precision=0 if f.kind is int else None, **_limits(name), **shown)


def widget(name: str, **look):
    """The row's widget (its element id derived from its name), its value the row's default unless given. Every
    widget but a picture's hands an API caller's value over as it comes (``ui.common.raw``): ``settings`` checks
    it against the field's row, so the error names the field and its range."""
    component, base = WIDGETS.get(name) or _plain(name)
    kwargs = {"value": BY_NAME[name].default, **base(), **look}
    made = component(elem_id=elem_id(name), **kwargs)
    return made if BY_NAME[name].kind is object else raw(made)


def device_label(device) -> str:
    return f"device (auto = {describe_device(device)})"


def painted(editor) -> np.ndarray | None:
    """The mask editor's value → how much of each display pixel is painted, ``(H, W)`` in [0, 1] (None if blank)."""
    layers = [layer for layer in (editor or {}).get("layers") or [] if layer is not None]
    if not layers:
        return None
    alpha = np.max([np.asarray(layer)[..., 3] for layer in layers if np.asarray(layer).ndim == 3], axis=0,
                   initial=0)
    return alpha.astype(np.float64) / 255.0 if np.any(alpha) else None


def number_rows(domain: str, methods=()) -> dict[str, Field]:
    """The numeric rows of ``cs_core.settings.FIELDS`` as the form checks them for ``domain``: with the limits the
    core applies for that domain (the hidden square's side, the factor, the blur's size, σ and length), m within
    the app's memory for a Gaussian matrix with these methods (``cs_core.run_budget.max_gaussian_m``) and the
    seed's of every command (``cs_core.tab_settings.SEED``)."""
    dom = get_domain(domain)
    narrowed = {"m": dict(low=1, high=max_gaussian_m(domain, methods)), "mask_size": dict(low=1, high=dom.size - 1),
                "factor": dict(low=2, high=dom.size),  # the core then asks for a divisor of the side
                "blur_size": dict(low=1, high=dom.size), "sigma": dict(high=dom.size),
                "length": dict(high=dom.size), "seed": dict(low=SEED.low, high=SEED.high)}
    return {f.name: replace(f, **narrowed.get(f.name, {})) for f in FIELDS if f.kind in (int, float)}


def check_numbers(values: dict) -> None:
    """Every numeric field that the chosen operator uses through its row for the chosen domain and methods: a wrong
    type, a value that is not finite or one beyond the row's limits is an ``InputError`` naming the field and its
    range (for m, with why the app bounds it)."""
    operator = BY_NAME["operator"].check(values.get("operator")) or BY_NAME["operator"].default
    domain = BY_NAME["domain"].check(values.get("domain")) or BY_NAME["domain"].default
    methods = BY_NAME["methods"].check(values.get("methods"))
    for f in number_rows(domain, methods).values():
        if f.operator not in (None, operator):
            continue
        value = values.get(f.name, f.default)
        try:
            f.check(value)
        except InputError:
            blank = " (or blank for the default)" if f.blank else ""
            why = f" ({matrix_note(domain, methods)})" if f.name == "m" and f.high < get_domain(domain).n else ""
            raise InputError(f"{f.label} must be {f.allowed()}{blank}{why}; got {value!r}") from None


def settings(values) -> ReconstructSettings:
    """The form's values (in ``NAMES`` order, or by name) → the typed settings, each field through its validator
    (the numbers through ``check_numbers`` first); the painted mask becomes the (H, W) picture of the hidden
    region."""
    values = dict(zip(NAMES, values)) if not isinstance(values, dict) else dict(values)
    check_numbers(values)
    values["m"] = as_int(values.get("m"))
    values["device"] = values.get("device") or "auto"
    drawn = values.get("operator") == "inpaint" and values.get("mask") == "drawn"
    values["mask_editor"] = painted(values.get("mask_editor")) if drawn else None
    return ReconstructSettings.checked(values)


def _parameter(name: str, required: bool) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                             default=inspect.Parameter.empty if required else None)


# the /reconstruct endpoint's parameters: one per row (the first ones required, as outside scripts send them), then
# the request (Gradio passes it positionally, after the inputs)
SIGNATURE = inspect.Signature([*(_parameter(n, i < NAMES.index("mask_editor")) for i, n in enumerate(NAMES)),
                               _parameter("request", False)])


def endpoint(run):
    """``run(settings, request)`` (a streaming handler) as the /reconstruct endpoint, which takes the form's values by
    name or in ``NAMES`` order and builds the settings here, in one place."""
    def reconstruct(*args, **kwargs):
        values = SIGNATURE.bind(*args, **kwargs)
        values.apply_defaults()
        values = dict(values.arguments)
        request = values.pop("request")
        yield from run(settings(values), request)
    reconstruct.__signature__ = SIGNATURE
    reconstruct.__annotations__ = {"request": gr.Request}
    reconstruct.__doc__ = run.__doc__
    return reconstruct


def row(example: dict, defaults: dict) -> list:
    """An example (the fields it sets) → its row of ``EXAMPLE_NAMES`` values, the others at ``defaults`` or the
    rows' defaults."""
    unknown = set(example) - set(EXAMPLE_NAMES)
    assert not unknown, f"examples set only form fields; not {unknown}"
    return [example.get(name, defaults.get(name, BY_NAME[name].default)) for name in EXAMPLE_NAMES]
