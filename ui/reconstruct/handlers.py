"""The Reconstruct tab's run: measure the image, stream every method's reconstruction, stop, export, compare.

Every number comes from ``cs_core`` (the same calls as ``python -m cs_core reconstruct``); this module converts
results to display arrays.
"""
from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from cs_core.devices import describe_device, resolve_device
from cs_core.domains import DOMAINS, get_domain
from cs_core.errors import InputError
from cs_core.export import RunRecord, write_csv, write_gif, write_png
from cs_core.problem import make_problem
from cs_core.session import Frame, run_methods
from cs_core.settings import ReconstructSettings
from cs_core.run_budget import SNAPSHOT_EVERY, check_time
from cs_core.solvers import METHODS, Options, check_methods, check_options, methods_for
from cs_core.solvers.posterior import sample_grid, std_image

from ..common import MAX_FPS, Run, Runs, display, max_seconds, method_label, user_errors
from . import form
from .callbacks import truth_of

MAX_SLOTS = max(len(methods_for(d)) for d in DOMAINS)  # reconstruction image slots (the most a domain offers)
EVERY = SNAPSHOT_EVERY             # a snapshot every 5 iterations / Adam steps (the planned costs count them)
FRAME_SHARE = 0.15                 # frames may take this share of a run: their rate follows what one costs the server
MIN_FPS = {"cpu": 4, "cuda": 8}    # ... but never falls below this (live convergence: ≥ 3 a second measured on a CPU)
METRIC_COLUMNS = ["method", "MSE [0,1]", "PSNR dB", "SSIM", "seconds", "iters"]
CURVE_X, CURVE_Y, CURVE_COLOR = "iteration", "psnr", "method"
OUTPUT_NAMES = ["status", "truth", "measurements", *[f"recon-{i}" for i in range(MAX_SLOTS)], "posterior-samples",
                "posterior-std", "convergence", "metrics"]
RUNS = Runs()
STAGE_SHOWN = ("posterior", "stage")  # the key, among the methods' names, of the stage the posterior labels show
EXPORTS = [("gif", "⬇ convergence (GIF)"), ("png", "⬇ final grid (PNG)"), ("csv", "⬇ convergence data (CSV)")]


# ---------------------------------------------------------------- the run

def _posterior_views(frame: Frame, methods: list[str], first: bool, state: str, shown: dict) -> tuple:
    """The first posterior method's K current samples (a grid) and its per-pixel std map, live; hidden when the run
    has no posterior method. Their labels are set (a property update, which Gradio pays for with a new component
    and its config) only when the stage changes and on the last frame; in between the images go as plain values."""
    name = next((n for n in methods if n in frame.latest and "samples" in frame.latest[n].extra), None)
    if name is None:
        hidden = gr.update(visible=False) if first else gr.skip()
        return hidden, hidden
    if frame.updated != name and state == "running":
        return gr.skip(), gr.skip()
    snap = frame.latest[name]
    samples = snap.extra["samples"][0]
    grid, std = display(sample_grid(samples, columns=8)), display(std_image(snap.extra["std"]))
    if state == "running" and shown.get(STAGE_SHOWN) == snap.extra["stage"]:
        return grid, std
    shown[STAGE_SHOWN] = snap.extra["stage"]
    std_label = "per-pixel std (white = its maximum)"
    if state != "running":
        std_label += f" · mean {snap.extra['std_mean'][0]:.4f}"
    return (gr.update(value=grid, visible=True,
                      label=f"{method_label(name)}: the {len(samples)} chains now · {snap.extra['stage']}"),
            gr.update(value=std, visible=True, label=std_label))


def _status(device: str, frame: Frame, options: Options, methods: list[str], elapsed: float) -> str:
    parts = [f"device {device}"]
    for name in methods:
        snap = frame.latest.get(name)
        done = snap.iteration if snap else 0
        planned = done if snap is not None and snap.final else METHODS[name].iterations(options)  # ended early:
        parts.append(f"{method_label(name)} {done}/{planned}")  # CSGM's patience, or Lasso's λ path once settled
        if snap is not None and snap.extra.get("stage") and not snap.final:
            parts.append(f"{method_label(name)}: {snap.extra['stage']}")
        if snap is not None and snap.message:
            parts.append(f"{method_label(name)}: {snap.message}")
    parts.append(f"{elapsed:.1f} s")
    return " · ".join(parts)


def _slot_label(name: str, snap) -> str:
    label = method_label(name)
    if snap is None:
        return label
    label += f" · MSE {snap.mse[0]:.4f} · {snap.psnr[0]:.1f} dB"
    return label + (" · ⚠ stopped early" if snap.message else "")


def _metrics_table(frame: Frame, methods: list[str]):
    rows = []
    for name in methods:
        snap = frame.latest.get(name)
        if snap is not None:
            rows.append([method_label(name), snap.mse[0], snap.psnr[0], snap.ssim[0], snap.seconds, snap.iteration])
    table = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    return table.style.format({"MSE [0,1]": "{:.5f}", "PSNR dB": "{:.2f}", "SSIM": "{:.3f}", "seconds": "{:.2f}"})


def _curve(rows: list[tuple[int, float, str]]) -> pd.DataFrame:
    """The convergence curve's table. Every method's label is always present (with a blank row when it is
    not running): Gradio's LinePlot fixes its colour scale to the series of the data it first draws."""
    present = {label for _, _, label in rows}
    rows = rows + [(None, None, m.label) for m in METHODS.values() if m.label not in present]
    iteration, psnr, method = zip(*rows)
    return pd.DataFrame({CURVE_X: pd.Series(iteration, dtype="float64"), CURVE_Y: pd.Series(psnr, dtype="float64"),
                         CURVE_COLOR: pd.Series(method, dtype="object")})


def problem_of(settings: ReconstructSettings):
    """The settings → the core's problem, options and face crop (None without one; what the CLI builds from its
    flags, with ``--face-crop`` for a photo of the visitor's own in the faces domain)."""
    dom = get_domain(settings.domain)
    truth, crop = truth_of(dom, settings.asset, settings.upload)
    noise = 0.0 if settings.noise is None else settings.noise
    seed = 0 if settings.seed is None else settings.seed
    problem = make_problem(truth, dom, settings.operator, settings.params(), noise, seed,
                           resolve_device(settings.device))
    return problem, settings.options(), crop


def check_budget(settings: ReconstructSettings) -> None:
    """On a CPU, a run planned over the app's share of the wall cap is refused before it starts
    (``cs_core.run_budget.check_time``)."""
    if resolve_device(settings.device).type != "cpu":
        return
    methods = check_methods(list(settings.methods), settings.domain)
    m = settings.m if settings.operator == "gaussian" else None
    check_time(settings.domain, m, methods, check_options(settings.options()), max_seconds())


def run_settings(settings: ReconstructSettings, request: gr.Request = None):
    """Measure the image and stream every method's reconstruction (see docs/app.md for the settings)."""
    run = RUNS.start(request)
    frames = None
    try:
        check_budget(settings)
        problem, options, crop = problem_of(settings)
        methods = list(dict.fromkeys(settings.methods))
        frames = run_methods(problem, list(settings.methods), options, every=EVERY)
        record = RunRecord(problem.truth, problem.view(), {n: method_label(n) for n in methods}, problem.operator.m)
        started = time.perf_counter()
        run.progress = f"device {describe_device(problem.device)}" + (f" · {crop.note}" if crop else "")
        yield (f"{run.progress} · starting", *[gr.skip()] * (len(OUTPUT_NAMES) - 1))
        frame = next(frames)  # priors are loaded and the methods checked before the first frame
        run.record = record   # the exports keep the last run's record until this one has a frame
        yield from _stream(run, problem, options, methods, frame, frames, started, crop.note if crop else "")
    finally:
        run.finished.set()
        if frames is not None:
            frames.close()  # Stop or an error: let the solvers go now


reconstruct = user_errors(form.endpoint(run_settings), oom="the GPU ran out of memory; use a smaller m or fewer restarts, or "
                                                  "device cpu")


def _stream(run: Run, problem, options: Options, methods: list[str], frame: Frame, frames, started: float,
            note: str = ""):
    """Yield the page's outputs, always the last frame; stop on request. A frame's cost is the time from its
    yield until Gradio resumes the run (encoding, cache files, sending): frames come at most ``MAX_FPS`` and at
    least ``MIN_FPS`` times a second, and in between as often as keeps their cost to ``FRAME_SHARE`` of the
    time (Gradio resumes the run before it has sent the frame, so on a CPU this time is small and the rate is in
    practice ``MAX_FPS`` or the snapshots' own pace; docs/benchmarks.md). A method's image is sent only when it has
    moved since the last frame (the last frame sends all), and in live frames as a plain value: a property update
    (a label) makes Gradio build a new component and its config (JSON schemas included) on its event loop, which
    cost more than encoding the image; so the first frame names each method and the last adds its metrics."""
    device_text = describe_device(problem.device) + (f" · {note}" if note else "")
    truth_img, view_img = display(run.record.truth), display(run.record.view)
    curve: list[tuple[int, float, str]] = []
    first, last_sent, cost = True, 0.0, 0.0
    shown: dict = {}  # method → the snapshot its slot shows
    slowest = 1.0 / MIN_FPS.get(problem.device.type, MAX_FPS)
    while frame is not None:
        run.record.add(frame)
        snap = frame.latest[frame.updated]
        if math.isfinite(snap.psnr[0]):
            curve.append((snap.iteration, snap.psnr[0], method_label(snap.method)))
        now = time.perf_counter()
        run.emitting = True
        over_time = now - started > max_seconds()
        stopping = run.stop.is_set() or over_time
        everyone = len(frame.latest) == len(methods)  # the first frame waits for every method's first snapshot
        interval = min(max(1.0 / MAX_FPS, cost / FRAME_SHARE), slowest)
        if frame.done or stopping or (everyone and now - last_sent >= interval):
            run.progress = _status(device_text, frame, options, methods, now - started)
            state = "stopped" if stopping else "done" if frame.done else "running"
            if over_time and not run.stop.is_set():
                state = f"time limit of {max_seconds():g} s per run reached · stopped"
            slots = []
            for i in range(MAX_SLOTS):
                if i >= len(methods):
                    slots.append(gr.update(visible=False) if first else gr.skip())
                    continue
                s = frame.latest.get(methods[i])
                if s is not None and shown.get(methods[i]) is s and state == "running":
                    slots.append(gr.skip())  # not moved since the last frame
                    continue
                shown[methods[i]] = s
                image = display(s.estimate) if s else None
                if first or state != "running":  # the label (with the metrics at the end): a property update
                    label = _slot_label(methods[i], s if state != "running" else None)
                    slots.append(gr.update(value=image, label=label, visible=True))
                else:  # the image alone, a plain value: Gradio only encodes it
                    slots.append(image)
            yielded = time.perf_counter()
            yield (f"{run.progress} · {state}",
                   gr.update(value=truth_img, label="ground truth") if first else gr.skip(),
                   gr.update(value=view_img, label=f"sensor view · m = {problem.operator.m}")
                   if first else gr.skip(),
                   *slots,
                   *_posterior_views(frame, methods, first, state, shown),
                   gr.update(value=_curve(curve), colors_in_legend=[method_label(n) for n in methods])
                   if first else _curve(curve),
                   _metrics_table(frame, methods))
            cost = time.perf_counter() - yielded
            first, last_sent = False, now
            if stopping or frame.done:
                return
        run.emitting = False
        frame = next(frames, None)


@user_errors
def export(request: gr.Request = None):
    """The session's last run (as far as it went) as an animated GIF, a labelled PNG and a CSV."""
    run = RUNS.get(request)
    if run is None or run.record is None:
        raise InputError("nothing to export yet: press Run first")
    folder = Path(tempfile.mkdtemp(prefix="csgm-export-"))
    paths = (write_gif(run.record, folder / "csgm-convergence.gif"), write_png(run.record, folder / "csgm-final.png"),
             write_csv(run.record, folder / "csgm-convergence.csv"))
    return [gr.update(value=str(path), visible=True) for path in paths]


def compare_choices(request: gr.Request = None):
    """After a run: the compare dropdown offers its methods, and the slider shows the first one against the truth."""
    run = RUNS.get(request)
    if run is None or run.record is None or not run.record.history:
        return gr.skip(), gr.skip()
    names = list(run.record.history)
    return (gr.update(choices=[(run.record.labels[n], n) for n in names], value=names[0]),
            compare(names[0], request))


def compare(method, request: gr.Request = None):
    """The truth against the final (or latest) reconstruction of ``method``, for the before/after slider."""
    run = RUNS.get(request)
    if run is None or run.record is None or method not in run.record.history:
        return None
    if run.record.truth is None:
        return None
    return display(run.record.truth), display(run.record.finals[method].estimate)


