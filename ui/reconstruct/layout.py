"""The Reconstruct tab's layout and wiring: the form (its widgets from ``form``), the live images, the convergence
curve, the metrics, the exports and the comparison slider."""
from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd
import torch

from cs_core.devices import describe_device
from cs_core.palette import method_color
from cs_core.settings import BY_NAME
from cs_core.solvers import METHODS

from .. import kiosk, links
from ..common import HIDDEN, PAPER_URL, concurrency, default_methods
from . import callbacks, form, handlers
from .callbacks import checked_upload, form_defaults, on_domain_change, preview
from .presets import examples
from .gallery import DEFAULT_M, default_asset, gallery_items
from .handlers import CURVE_COLOR, CURVE_X, CURVE_Y, EXPORTS, MAX_SLOTS, METRIC_COLUMNS, RUNS

EXPLANATION = (Path(__file__).with_name("explanation.md").read_text(encoding="utf-8")
               .replace("{PAPER_URL}", PAPER_URL))


def _form(domain0: str, device: torch.device) -> dict:
    """The form's widgets by field name, placed in their groups; plus the gallery, the m marks and the operator
    boxes (``_boxes``)."""
    w = {}
    w["domain"] = form.widget("domain", value=domain0)
    with gr.Tab("Gallery"):
        w["_gallery"] = gr.Gallery(gallery_items(domain0), columns=4, height=150, allow_preview=False,
                                   show_label=False, object_fit="contain", elem_id="gallery")
        w["asset"] = form.widget("asset", value=default_asset(domain0))
    with gr.Tab("Upload"):
        w["upload"] = form.widget("upload")
        w["upload"].preprocess = checked_upload(w["upload"].preprocess)
    w["operator"] = form.widget("operator")
    boxes = {}
    with gr.Group(visible=True) as boxes["gaussian"]:
        w["m"] = form.widget("m", value=DEFAULT_M[domain0])
        w["_m_marks"] = gr.Radio(callbacks.paper_ms(domain0, default_methods(domain0)), value=DEFAULT_M[domain0],
                                 label="the paper's values of m (those the app's memory allows)", elem_id="m-marks")
        _rest(w, "gaussian")
    with gr.Group(visible=False) as boxes["inpaint"]:
        w["mask"] = form.widget("mask")
        w["mask_size"] = form.widget("mask_size", value=form_defaults(domain0)["mask_size"])
        w["keep"], w["mask_editor"] = form.widget("keep"), form.widget("mask_editor")
        _rest(w, "inpaint")
    with gr.Group(visible=False) as boxes["superres"]:
        w["factor"] = form.widget("factor")
        _rest(w, "superres")
    with gr.Group(visible=False) as boxes["fourier"]:
        with gr.Row():
            w["accel"], w["center"] = form.widget("accel"), form.widget("center")
        w["lines"] = form.widget("lines")
        _rest(w, "fourier")
    with gr.Group(visible=False) as boxes["blur"]:
        w["kernel"] = form.widget("kernel")
        with gr.Row():
            for name in ("sigma", "length", "angle", "blur_size"):
                w[name] = form.widget(name)
        _rest(w, "blur")
    w["noise"] = form.widget("noise")
    # Built with every method so that an API call for any domain reaches the core's own checks
    # (clear errors); the page narrows the choices to the domain's on load.
    w["methods"] = form.widget("methods", value=default_methods(domain0))
    with gr.Accordion("Advanced settings", open=False, elem_id="advanced"):
        for pair in (("iterations", "restarts"), ("lr", "csgm_lam"), ("lam", "seed")):
            with gr.Row():
                for name in pair:
                    w[name] = form.widget(name)
        w["device"] = form.widget("device", label=form.device_label(device))
        _rest(w, None)
    w["_boxes"] = [boxes[name] for name in callbacks.BOXES]
    return w


def _rest(w: dict, operator: str | None):
    """The rows of ``operator`` (or of none) not placed above, in their plain widgets: a new row shows up here."""
    for name in form.NAMES:
        if name not in w and BY_NAME[name].operator == operator:
            w[name] = form.widget(name)


def build(demo: gr.Blocks, device: torch.device) -> None:
    """The tab's contents: the form, the live images, the convergence curve and the metrics."""
    domain0 = "mnist"
    methods0 = default_methods(domain0)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=330):
            w = _form(domain0, device)
            settings_link = links.link_box()
        with gr.Column(scale=3):
            with gr.Row(equal_height=True):
                status = gr.Textbox(f"device {describe_device(device)} · ready", label="Status", lines=1,
                                    max_lines=2, interactive=False, elem_id="status", scale=6)
                run_btn = gr.Button("Run", variant="primary", elem_id="run-btn", min_width=90, scale=1)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="stop-btn", min_width=90, scale=1)
            with gr.Row(elem_id="images-row", equal_height=True):
                image_kw = dict(type="numpy", format="png", interactive=False, height=230, min_width=150,
                                buttons=[])
                truth = gr.Image(label="ground truth", elem_id="truth", **image_kw)
                measurements = gr.Image(label="sensor view (what was measured)", elem_id="measurements", **image_kw)
                pattern = gr.Image(label="what the sensor samples", visible=False, elem_id="sensor-pattern", **image_kw)
                recon = [gr.Image(label=METHODS[methods0[i]].label if i < len(methods0) else f"method {i + 1}",
                                  visible=i < len(methods0), elem_id=f"recon-{i}", **image_kw)
                         for i in range(MAX_SLOTS)]
            with gr.Row(elem_id="posterior-row", equal_height=True):  # a posterior method's samples, live
                samples = gr.Image(label="posterior samples", visible=False, elem_id="posterior-samples",
                                   **{**image_kw, "height": 200, "min_width": 400, "scale": 3})
                std_map = gr.Image(label="per-pixel std", visible=False, elem_id="posterior-std",
                                   **{**image_kw, "height": 200, "scale": 1})
            with gr.Row():
                convergence = gr.LinePlot(
                    None, x=CURVE_X, y=CURVE_Y, color=CURVE_COLOR, title="Convergence",
                    x_title="iteration (Lasso) / Adam step (CSGM)", y_title="PSNR (dB)",
                    color_map={m_.label: method_color(n) for n, m_ in METHODS.items()},
                    height=280, elem_id="convergence", scale=1, label="Convergence", show_label=False)
                metrics = gr.Dataframe(pd.DataFrame(columns=METRIC_COLUMNS), label="Metrics", interactive=False,
                                       elem_id="metrics", scale=1, show_row_numbers=False)
            with gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=220):
                    export_btn = gr.Button("Export the run: GIF · PNG · CSV", elem_id="export-btn")
                    export_files = [gr.DownloadButton(label, visible=False, size="sm", elem_id=f"export-{kind}")
                                    for kind, label in EXPORTS]
                    compare_method = gr.Dropdown([], label="Compare with the truth", elem_id="compare-method",
                                                 info="after a run: drag the slider (left: truth, right: method)")
                with gr.Column(scale=2):
                    compare_slider = gr.ImageSlider(type="numpy", format="png", interactive=False, height=300,
                                                    label="truth | reconstruction", elem_id="compare-slider")
            rows, labels = examples()
            example_inputs = [w[name] for name in form.EXAMPLE_NAMES]
            example_box = None
            if rows:
                example_box = gr.Examples(rows, inputs=example_inputs, example_labels=labels,
                                          label="The paper's figures — click, then Run", elem_id="examples")
            gr.Markdown(EXPLANATION, elem_id="explanation")

    outputs = [status, truth, measurements, *recon, samples, std_map, convergence, metrics]
    run_event = run_btn.click(kiosk.preempting(handlers.reconstruct), [w[name] for name in form.NAMES], outputs,
                              api_name="reconstruct", concurrency_limit=concurrency(), show_progress="hidden")
    run_event.then(handlers.compare_choices, None, [compare_method, compare_slider], **HIDDEN)
    export_btn.click(handlers.export, None, export_files, api_name="export")
    compare_method.input(handlers.compare, [compare_method], [compare_slider], **HIDDEN)
    stop_btn.click(RUNS.request_stop, None, [status], cancels=[run_event], api_name="stop")
    if kiosk.enabled():  # autoplay: an example's row holds the values of ``form.EXAMPLE_NAMES``
        def run_example(*row, request: gr.Request = None):
            return handlers.reconstruct(**dict(zip(form.EXAMPLE_NAMES, row)), request=request)
        kiosk.attach(example_inputs, outputs, run_example, rows, labels, RUNS)
    _wire(demo, w, domain0, truth, pattern, settings_link, example_box)


def _wire(demo, w: dict, domain0: str, truth, pattern, settings_link, example_box) -> None:
    """The form's own events: the domain, the gallery, the operator's controls, the previews, the link."""
    domain, asset, upload, m, gallery, m_marks = w["domain"], w["asset"], w["upload"], w["m"], w["_gallery"], \
        w["_m_marks"]
    narrowed = [gallery, w["methods"], m_marks]
    domain.change(on_domain_change, [domain, w["methods"], m], narrowed, **HIDDEN)
    domain.input(callbacks.on_domain_input, [domain, asset, upload, m], [w["methods"], m, w["mask_size"], asset],
                 **HIDDEN)
    asset.input(callbacks.on_pick_asset, [asset, domain, m], [domain, upload, w["methods"], m, w["mask_size"]],
                **HIDDEN)
    gallery.select(callbacks.on_gallery_select, [domain], [asset, upload], **HIDDEN)
    upload.upload(lambda: None, None, [asset], **HIDDEN)
    for trigger in (asset.change, upload.change, domain.change):
        trigger(preview, [asset, upload, domain], [truth], **HIDDEN)
    m_marks.input(lambda v: v, [m_marks], [m], **HIDDEN)
    w["methods"].change(callbacks.paper_m_marks, [domain, w["methods"], m], [m_marks], **HIDDEN)
    w["operator"].change(callbacks.on_operator, [w["operator"]], w["_boxes"], **HIDDEN)
    for choice in ("kernel", "mask"):
        show, members = callbacks.on_choice(choice)
        w[choice].change(show, [w[choice]], [w[name] for name in members], **HIDDEN)
    pattern_inputs = [w[name] for name in callbacks.PATTERN_FIELDS]
    for control in pattern_inputs:
        control.change(callbacks.sensor_pattern, pattern_inputs, [pattern], **HIDDEN)
    for trigger in (w["mask"].change, asset.change, upload.change, domain.change):
        trigger(callbacks.mask_canvas, [w["mask"], asset, upload, domain], [w["mask_editor"]], **HIDDEN)
    loaded = links.attach(demo, {name: w[name] for name in links.FIELDS}, settings_link, domain0, form_defaults)
    loaded.then(on_domain_change, [domain, w["methods"], m], narrowed, **HIDDEN)
    if example_box is not None:  # loading an example restores every input's initial choices: narrow them again
        example_box.load_input_event.then(on_domain_change, [domain, w["methods"], m], narrowed, **HIDDEN)
    loaded.then(preview, [asset, upload, domain], [truth], **HIDDEN)
