"""The Reconstruct form's own callbacks: the domain, the gallery, the operator's controls, the previews."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from cs_core.assets import get_asset
from cs_core.domains import get_domain
from cs_core.errors import InputError
from cs_core.experiments.paper import PAPER_M
from cs_core.faces import load_input
from cs_core.images import load_image_array
from cs_core.operators import OPERATORS, build_operator
from cs_core.problem import OPERATOR_STREAM, stream
from cs_core.run_budget import max_gaussian_m
from cs_core.settings import BY_NAME, ReconstructSettings
from cs_core.solvers import METHODS

from ..common import default_methods, display, method_choices, user_errors
from .gallery import DEFAULT_M, assets_of, default_asset, gallery_items

BOXES = tuple(OPERATORS)  # one group of controls per operator, in the registry's order
PATTERN_FIELDS = ("domain", "operator", "seed", *(f.name for f in BY_NAME.values()
                                                  if f.operator in ("fourier", "blur")))  # what the sensor view draws


def checked_upload(preprocess):
    """Gradio decodes an upload before any handler runs: check the file with the core's reader first (size, pixel
    count, readable), so a bad file is a ``gr.Error`` with the core's message rather than a generic failure."""
    def check_then_preprocess(payload):
        path = getattr(payload, "path", None)
        if path:
            try:
                load_image_array(path)
            except InputError as exc:
                raise gr.Error(str(exc).replace(str(path), getattr(payload, "orig_name", None) or "the upload")) \
                    from None
        return preprocess(payload)
    return check_then_preprocess


def truth_of(dom, asset, upload):
    """The image the methods will see and the face crop (or None): a photo of the visitor's own (upload, webcam,
    clipboard) in the faces domain is cropped to its largest face (``cs_core.faces``)."""
    return load_input(dom, image=upload, asset=asset, crop_face=bool(upload) and dom.name == "faces")


@user_errors
def preview(asset, upload, domain):
    """The chosen image converted to the domain's shape (what the methods will see)."""
    dom = get_domain(domain)
    if not upload and not asset:
        return gr.update(value=None, label="ground truth")
    if not upload and get_asset(asset).domain != dom.name:
        return gr.skip()  # the domain is about to follow the picked asset
    truth, crop = truth_of(dom, asset, upload)
    return gr.update(value=display(truth), label=f"ground truth · {dom.size}×{dom.size}"
                     + (f" · {'face' if crop.face else 'no face found: centre'} crop" if crop else ""))


def on_domain_change(domain, methods, m):
    """Whatever set the domain (a click, a gallery pick, an example): its gallery, methods offered, m marks (for
    the methods checked that fit the domain; a switch of domain then checks its own, and their change marks m
    again). The methods' value is left alone here: an example sets it together with the domain."""
    fitting = [name for name in methods or [] if name in METHODS and domain in METHODS[name].domains]
    return (gr.update(value=gallery_items(domain), selected_index=None),
            gr.update(choices=method_choices(domain)),
            paper_m_marks(domain, fitting, m))


def paper_ms(domain, methods) -> list[int]:
    """The paper's values of m that the app allows for a Gaussian A in the domain with these methods
    (``cs_core.run_budget.max_gaussian_m``)."""
    top = max_gaussian_m(domain, [name for name in methods or [] if name in METHODS])
    return [value for value in PAPER_M[domain] if value <= top]


def paper_m_marks(domain, methods, m):
    """The marks of ``paper_ms``, the one equal to m selected."""
    choices = paper_ms(domain, methods)
    return gr.update(choices=choices, value=m if m in choices else None)


def form_for(domain, m) -> tuple:
    """For a domain the visitor switched to: its preset methods, m (kept where valid), the hidden square (half
    the side). (Handlers never read the methods: their choices in the session follow the domain, and a value
    read in between would be refused.)"""
    valid_m = isinstance(m, (int, float)) and 1 <= m <= get_domain(domain).n
    return (gr.update(choices=method_choices(domain), value=default_methods(domain)),
            gr.skip() if valid_m else DEFAULT_M[domain], get_domain(domain).size // 2)


def form_defaults(domain) -> dict:
    """The fields that follow the domain, at their defaults for it (what a link naming only the domain gets)."""
    return {"asset": default_asset(domain), "upload": None, "m": DEFAULT_M[domain],
            "mask_size": get_domain(domain).size // 2, "methods": default_methods(domain)}


def on_domain_input(domain, asset, upload, m):
    """The visitor chose a domain: adapt the form, and pick a gallery image of that domain."""
    asset_update = gr.skip()
    if not upload and asset and get_asset(asset).domain != domain:
        asset_update = default_asset(domain)
    return (*form_for(domain, m), asset_update)


def on_pick_asset(asset, domain, m):
    """The visitor picked a gallery image: the domain follows it and the upload is cleared."""
    if not asset:
        return (gr.skip(),) * 5
    new = get_asset(asset).domain
    return (new, None, *(form_for(new, m) if new != domain else (gr.skip(),) * 3))


def on_gallery_select(domain, evt: gr.SelectData):
    items = assets_of(domain)
    if evt.index is None or not 0 <= evt.index < len(items):
        return gr.skip(), gr.skip()
    return items[evt.index].name, None


def on_operator(operator):
    return [gr.update(visible=operator == name) for name in BOXES]


def on_choice(name: str):
    """A choice field's callback: show the fields that belong to the chosen value (``Field.choice``), hide the rest."""
    members = [f for f in BY_NAME.values() if f.choice and f.choice[0] == name]

    def show(value):
        return [gr.update(visible=f.choice[1] == value) for f in members]
    show.__name__ = f"on_{name}"  # the event's (private) name, as Gradio lists it
    return show, [f.name for f in members]


def sensor_pattern(*values):
    """What the chosen sensor samples (the k-space mask, the blur kernel), drawn as the run will draw it;
    hidden for operators without one, and left blank while a parameter is invalid (Run says why)."""
    values = dict(zip(PATTERN_FIELDS, values))
    operator = values["operator"]
    if operator not in ("fourier", "blur"):
        return gr.update(value=None, visible=False)
    label = "k-space lines measured (centre = low frequencies)" if operator == "fourier" else "blur kernel"
    try:
        settings = ReconstructSettings.checked(values)
        seed = 0 if settings.seed is None else settings.seed
        op = build_operator(operator, get_domain(settings.domain), settings.params(),
                            stream(seed, OPERATOR_STREAM), torch.device("cpu"))
    except InputError:
        return gr.update(value=None, visible=True, label=label)
    return gr.update(value=display(op.pattern()), visible=True, label=label)


@user_errors
def mask_canvas(mask, asset, upload, domain):
    """With the drawn mask chosen: a fresh canvas over the current image (as displayed) to paint on."""
    if mask != "drawn":
        return gr.skip()
    image = display(truth_of(get_domain(domain), asset, upload)[0]) if upload or asset else None
    if image is not None and image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return {"background": image, "layers": [], "composite": image}
