"""Tab "Measurements vs error": a small error-vs-m sweep drawn live beside the precomputed full figure.

The sweep is ``cs_core.experiments.paper.sweep`` (the CLI's ``sweep``); this module only draws it.
"""
from __future__ import annotations

import time

import gradio as gr
import numpy as np
import pandas as pd
from PIL import Image as _PILImage

from cs_core.devices import describe_device, resolve_device
from cs_core.experiments.figure import summarise
from cs_core.experiments.paper import PAPER_M, sweep
from cs_core.experiments.splits import SOURCES, load_images
from cs_core.experiments.table import RESULTS_DIR
from cs_core.palette import method_color
from cs_core.solvers import METHODS
from cs_core.tab_settings import SWEEP, SWEEP_OFFER, checked, offered_ms, row, sweep_images, sweep_methods, sweep_ms

from .common import (DOMAIN_CHOICES, HIDDEN, Runs, default_methods, in_background, max_seconds, method_label, raw,
                     usable_methods, user_errors)

TITLE = "Measurements vs error"
ELEM_ID = "sweep-tab"
SWEEP_DEFAULT_M = {"mnist": [25, 100, 400], "faces": [20, 50, 100]}
SWEEP_SOURCES = {"mnist": ["heldout", "real"], "faces": ["inrange", "real"]}
SWEEP_X, SWEEP_Y, SWEEP_COLOR = "m", "log10 MSE", "method"
RUNS = Runs()                                  # the sweep per browser session, for Stop
SWEEP_COLUMNS = ["method", "m", "images", "mean MSE", "± 95 % CI", "log10 mean MSE"]
IMAGES = row(SWEEP, "images")                  # its slider's limits


def sweep_figure(domain: str, source: str):
    """The precomputed full figure for the domain (and source), as a PNG array, and its caption."""
    names = [domain if s == "heldout" else f"{domain}-{s}" for s in (source, *SWEEP_SOURCES[domain])]
    path = next((RESULTS_DIR / n / "figure.png" for n in names if (RESULTS_DIR / n / "figure.png").exists()), None)
    if path is None:
        return None, (f"The full {domain} figure is not computed yet (`python -m cs_core sweep`); "
                      "see `docs/RESULTS.md`.")
    return (np.asarray(_PILImage.open(path).convert("RGB")),
            f"Precomputed full sweep: `{path.relative_to(RESULTS_DIR.parent.parent)}` — protocol, tables and "
            "reading in `docs/RESULTS.md`.")


def _sweep_outputs(rows: list[dict], methods: list[str]):
    """The live curve (log10 of the mean MSE vs m, one line per method) and the table, from ``summarise``."""
    summary = summarise(rows)
    points, table = [], []
    for name in methods:
        for key, values in summary.items():
            if key[2] == name:
                for m, mean, half, n in values:
                    points.append((m, float(np.log10(mean)), method_label(name)))
                    table.append([name, m, n, mean, half if n > 1 else None, float(np.log10(mean))])  # CI needs n ≥ 2
    present = {label for *_, label in points}
    points += [(None, None, m_.label) for m_ in METHODS.values() if m_.label not in present]
    x, y, color = zip(*points)
    curve = pd.DataFrame({SWEEP_X: pd.Series(x, dtype="float64"), SWEEP_Y: pd.Series(y, dtype="float64"),
                          SWEEP_COLOR: pd.Series(color, dtype="object")})
    table = pd.DataFrame(table, columns=SWEEP_COLUMNS).style.format(
        {"mean MSE": "{:.5f}", "± 95 % CI": "{:.5f}", "log10 mean MSE": "{:.3f}"}, na_rep="—")
    return gr.update(value=curve, colors_in_legend=[method_label(n) for n in methods]), table


@user_errors(oom="the GPU ran out of memory; use fewer images or smaller m")
def run_small_sweep(domain, methods, ms, images, source, request: gr.Request = None, progress=gr.Progress()):
    """A small error-vs-m sweep (``cs_core.experiments.paper.sweep``, noiseless, seed 0); streams the curve and the
    table after each finished (method, m) group, moves the progress bar after each image; the status ends
    with ``done``, ``stopped`` or ``time limit``."""
    run = RUNS.start(request)
    stop, began = run.stop, time.monotonic()
    s = checked(SWEEP, domain, methods, ms, images, source)
    device = resolve_device("auto")
    methods, ms = sweep_methods(s.domain, s.methods), sweep_ms(s.domain, s.ms, PAPER_M)
    s.images = sweep_images(s.domain, s.images)
    n_images = len(load_images(s.domain, s.source, s.images).names)
    groups, started = len(methods) * len(ms), time.perf_counter()
    head = f"device {describe_device(device)} · {s.domain}/{s.source} · {n_images} image{'' if n_images == 1 else 's'}"
    status = f"{head} · 0/{groups} groups · running"
    yield status, None, pd.DataFrame(columns=SWEEP_COLUMNS)
    collected, finished = [], 0
    total = groups * n_images
    progress(0, desc=f"0/{total} reconstructions")
    over_time = lambda: time.monotonic() - began > max_seconds()  # noqa: E731
    rows = sweep(s.domain, methods, ms, s.source, s.images, 0.0, 0, device,
                 should_stop=lambda: stop.is_set() or over_time())
    ended = lambda: "stopped" if stop.is_set() else f"time limit of {max_seconds():g} s per run reached · stopped"  # noqa: E731,E501
    for row in in_background(rows, stop):
        if stop.is_set() or over_time():
            yield f"{head} · {finished}/{groups} groups · {ended()}", gr.skip(), gr.skip()
            return
        if row is None:  # still computing: the same status again, a yield where a cancel can land
            yield status, gr.skip(), gr.skip()
            continue
        collected.append(row)
        progress(len(collected) / total, desc=f"{len(collected)}/{total} reconstructions "
                                              f"(last: {row['method']}, m = {row['m']})")
        if sum(r["method"] == row["method"] and r["m"] == row["m"] for r in collected) < n_images:
            continue
        finished += 1
        curve, table = _sweep_outputs(collected, methods)
        state = "done" if finished == groups else "running"
        status = (f"{head} · {finished}/{groups} groups (last: {row['method']}, m = {row['m']}) · "
                  f"{time.perf_counter() - started:.1f} s · {state}")
        yield status, curve, table
    if finished < groups:  # the rows ended early: Stop or the time limit between two checks
        yield f"{head} · {finished}/{groups} groups · {ended()}", gr.skip(), gr.skip()


def offered_methods(domain: str) -> list[str]:
    """The methods the tab offers for the domain (``cs_core.tab_settings.SWEEP_OFFER``) whose prior is loaded."""
    return [n for n in SWEEP_OFFER[domain].methods if n in usable_methods(domain)]


def _sweep_domain_form(domain, source=None, images=None):
    """Methods, m values, the images' limit and the sources offered for the domain (presets selected), and its
    full figure."""
    source = source if source in SWEEP_SOURCES[domain] else SWEEP_SOURCES[domain][0]
    figure, caption = sweep_figure(domain, source)
    offered, most = offered_methods(domain), SWEEP_OFFER[domain].images
    return (gr.update(choices=[(method_label(n), n) for n in offered],
                      value=[n for n in default_methods(domain) if n in offered] or offered[:1]),
            gr.update(choices=list(offered_ms(domain, PAPER_M)), value=SWEEP_DEFAULT_M[domain]),
            gr.update(maximum=most) if isinstance(images, (int, float)) and images <= most else
            gr.update(maximum=most, value=min(IMAGES.default, most)),
            gr.update(choices=SWEEP_SOURCES[domain], value=source), figure, caption)


def build(demo: gr.Blocks) -> None:
    """The tab's contents: a small sweep drawn live beside the precomputed full figure."""
    domain0 = "mnist"
    figure0, caption0 = sweep_figure(domain0, SWEEP_SOURCES[domain0][0])
    all_m = sorted({m for domain in SWEEP_OFFER for m in offered_ms(domain, PAPER_M)})
    limits = "; ".join(f"{d}: m up to {o.max_m}, at most {o.images} image{'s' if o.images > 1 else ''}"
                       for d, o in SWEEP_OFFER.items())
    gr.Markdown("Mean per-pixel error vs the number of Gaussian measurements m, on a few images "
                "(noiseless, seed 0, Lasso's λ chosen on validation images as in `docs/RESULTS.md`). "
                f"So that every sweep ends within the time cap on a small CPU: {limits}.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            domain = gr.Radio(DOMAIN_CHOICES, value=domain0, label="Domain", elem_id="sweep-domain")
            # Built with every domain's choices (an API call's values are checked by cs_core.tab_settings);
            # the page narrows them to the domain's.
            methods = gr.CheckboxGroup([(method_label(n), n) for n in dict.fromkeys(
                n for offer in SWEEP_OFFER.values() for n in offer.methods)],
                value=default_methods(domain0), label="Methods", elem_id="sweep-methods")
            ms = gr.CheckboxGroup(all_m, value=SWEEP_DEFAULT_M[domain0], label="m values (the paper's)",
                                  elem_id="sweep-m")
            images = gr.Slider(IMAGES.low, IMAGES.high, value=IMAGES.default, step=1, label="number of images",
                               elem_id="sweep-images")
            source = gr.Radio(list(SOURCES), value=SWEEP_SOURCES[domain0][0], label="Images",
                              info="heldout: MNIST test digits · inrange: G(z) of the prior · "
                                   "real: the gallery's off-range images (photos, a letter)",
                              elem_id="sweep-source")
            with gr.Row():
                run_btn = gr.Button("Run", variant="primary", elem_id="sweep-run-btn", min_width=90)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="sweep-stop-btn", min_width=90)
        with gr.Column(scale=3):
            status = gr.Textbox("ready", label="Status", lines=1, max_lines=2, interactive=False,
                                elem_id="sweep-status")
            progress_bar = gr.Markdown("", min_height=56, elem_id="sweep-progress")  # the bar is drawn here
            with gr.Row(equal_height=False):
                plot = gr.LinePlot(
                    None, x=SWEEP_X, y=SWEEP_Y, color=SWEEP_COLOR, title="This sweep: error vs m",
                    x_title="number of measurements m", y_title="log10(mean per-pixel MSE)",
                    color_map={m_.label: method_color(n) for n, m_ in METHODS.items()},
                    height=330, elem_id="sweep-plot", scale=1, label="This sweep", show_label=False)
                with gr.Column(scale=1):
                    figure = gr.Image(figure0, type="numpy", format="png", interactive=False, height=330,
                                      label="Full sweep (precomputed)", show_label=False, elem_id="sweep-figure",
                                      buttons=["fullscreen"])
                    caption = gr.Markdown(caption0, elem_id="sweep-caption")
            table = gr.Dataframe(pd.DataFrame(columns=SWEEP_COLUMNS), label="Mean per-pixel MSE per (method, m)",
                                 interactive=False, elem_id="sweep-table", show_row_numbers=False)

    raw(domain, methods, ms, images, source)  # checked by the rows of cs_core.tab_settings
    run_btn.click(run_small_sweep, [domain, methods, ms, images, source], [status, plot, table],
                  api_name="sweep", concurrency_limit=1, show_progress="full", show_progress_on=[progress_bar])
    stop_btn.click(RUNS.stop, None, None, api_name="sweep_stop", show_progress="hidden")
    domain.input(lambda d, i: _sweep_domain_form(d, None, i), [domain, images],
                 [methods, ms, images, source, figure, caption], **HIDDEN)
    source.input(lambda d, s: sweep_figure(d, s), [domain, source], [figure, caption], **HIDDEN)
    demo.load(_sweep_domain_form, [domain, source, images], [methods, ms, images, source, figure, caption], **HIDDEN)
