"""Gradio demo: measure an image, reconstruct it with Lasso and CSGM side by side, watch them converge.

    python demo_app.py [--host 127.0.0.1] [--port 7860] [--share]

Layout and thin callbacks only: every number comes from ``cs_core`` (the same calls as
``python -m cs_core reconstruct``), this module converts results to display arrays.
"""
from __future__ import annotations

import argparse
import math
import os
import threading
import time
from dataclasses import dataclass, field

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from PIL import Image as _PILImage  # noqa: E402

from cs_core.assets import get_asset, list_assets, load_truth  # noqa: E402
from cs_core.devices import DEVICE_CHOICES, describe_device, resolve_device  # noqa: E402
from cs_core.domains import DOMAINS, get_domain  # noqa: E402
from cs_core.errors import InputError  # noqa: E402
from cs_core.experiments import PAPER_M, RESULTS_DIR, SOURCES, load_images, summarise, sweep  # noqa: E402
from cs_core.images import MAX_FILE_BYTES, load_image_array, to_uint8  # noqa: E402
from cs_core.palette import method_color  # noqa: E402
from cs_core.priors import PRIORS  # noqa: E402
from cs_core.problem import make_problem  # noqa: E402
from cs_core.session import Frame, run_methods, run_to_end  # noqa: E402
from cs_core.solvers import METHODS, Options, methods_for  # noqa: E402


PAPER_URL = "https://arxiv.org/abs/1703.03208"
MAX_SLOTS = 4                      # reconstruction image slots (the most methods a domain offers)
EVERY = 5                          # a snapshot every 5 iterations / Adam steps
MAX_FPS = 8                        # frames sent to the browser per second, at most
STOP_WAIT = 1.5                    # seconds Stop waits for a frame on its way (a cancelled one never arrives)
QUEUE_SIZE = 16                    # runs waiting for the device beyond that are refused ("queue is full")
DISPLAY_SIDE = 224                 # images are nearest-upscaled to about this side for display
DEFAULT_M = {"mnist": 100, "faces": 500}
DEFAULT_METHODS = {"mnist": ["lasso-dct", "csgm-vae"], "faces": ["lasso-dct", "lasso-wavelet", "csgm-dcgan"]}
DEFAULT_ASSET = {"mnist": "digit-test-3856"}
DOMAIN_CHOICES = [("MNIST digits · 28×28", "mnist"), ("Faces · 64×64 RGB", "faces")]
OPERATOR_CHOICES = [("Gaussian matrix", "gaussian"), ("Inpainting", "inpaint"), ("Super-resolution", "superres")]
METRIC_COLUMNS = ["method", "MSE [0,1]", "PSNR dB", "SSIM", "seconds", "iters"]
CURVE_X, CURVE_Y, CURVE_COLOR = "iteration", "psnr", "method"
OUTPUT_NAMES = ["status", "truth", "measurements", *[f"recon-{i}" for i in range(MAX_SLOTS)], "convergence", "metrics"]


def concurrency() -> int:
    """Runs at once (they share the device): env ``CSGM_DEMO_CONCURRENCY`` (``--concurrency``), default 1."""
    return max(1, int(os.environ.get("CSGM_DEMO_CONCURRENCY", "1")))


def max_seconds() -> float:
    """Wall-time cap of one run: env ``CSGM_DEMO_MAX_SECONDS`` (``--max-seconds``), default 120 s."""
    return float(os.environ.get("CSGM_DEMO_MAX_SECONDS", "120"))


# ---------------------------------------------------------------- display helpers (no math)

def display(image: torch.Tensor) -> np.ndarray:
    """``(1, C, H, W)`` in [0, 1] → uint8 nearest-upscaled to about ``DISPLAY_SIDE`` (display only)."""
    arr = to_uint8(image)
    k = max(1, math.ceil(DISPLAY_SIDE / arr.shape[0]))
    return arr.repeat(k, axis=0).repeat(k, axis=1)


def method_label(name: str) -> str:
    return METHODS[name].label if name in METHODS else name


def _int(value):
    """Gradio numbers arrive as floats; whole ones become ints, anything else goes to the core as is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _blank(value):
    """Blank (None / empty) advanced fields mean "the method's default"."""
    return None if value is None or value == "" else value


# ---------------------------------------------------------------- gallery

def assets_of(domain: str) -> list:
    return list(list_assets(domain))


def gallery_items(domain: str) -> list[tuple[str, str]]:
    return [(str(a.path), a.name) for a in assets_of(domain)]


def asset_choices() -> list[tuple[str, str]]:
    """Every gallery image (all domains, so an API call may name any), labelled with its domain."""
    return [(f"{a.name} · {name}" + ("" if a.in_range else " · off the prior's range"), a.name)
            for name in DOMAINS for a in assets_of(name)]


def pick_asset(domain: str, preferred: str | None = None, in_range: bool = True, nth: int = 0) -> str | None:
    """``preferred`` if the gallery has it, else the ``nth`` image of the domain that is (or is not) in range."""
    items = assets_of(domain)
    if preferred in {a.name for a in items}:
        return preferred
    fitting = [a.name for a in items if a.in_range == in_range] or [a.name for a in items]
    return fitting[nth % len(fitting)] if fitting else None


def default_asset(domain: str) -> str | None:
    """The image the page opens with: a held-out test digit (a '7') on which both families do their typical best."""
    return pick_asset(domain, DEFAULT_ASSET.get(domain))


# ---------------------------------------------------------------- the run

def _status(device: str, frame: Frame, options: Options, methods: list[str], elapsed: float) -> str:
    parts = [f"device {device}"]
    for name in methods:
        snap = frame.latest.get(name)
        done = snap.iteration if snap else 0
        parts.append(f"{method_label(name)} {done}/{METHODS[name].iterations(options)}")
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


def _int_or_none(value, what: str = "value"):
    """An advanced field: blank → None (the default), whole numbers → int; the core checks the range."""
    value = _blank(value.strip() if isinstance(value, str) else value)
    if value is None or isinstance(value, (int, float)):
        return None if value is None else _int(value)
    try:
        return int(value)
    except ValueError:
        try:
            return _int(float(value))
        except ValueError:
            raise InputError(f"{what} must be a whole number (or blank for the default); got {value!r}") from None


def _float_or_none(value, what: str = "value"):
    value = _blank(value.strip() if isinstance(value, str) else value)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number (or blank for the default); got {value!r}") from None


def default_text(setting: str) -> str:
    """Placeholder of an advanced field: each method's default."""
    parts = [f"{METHODS['lasso-dct'].iterations(Options())} Lasso"] if setting == "steps" else []
    parts += [f"{getattr(p.defaults, setting):g} {p.name.upper()}" for p in PRIORS.values()]
    return "default: " + ", ".join(parts)


@dataclass
class _Run:
    """One session's run, as Stop sees it."""
    stop: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    emitting: bool = False  # from reading the stop flag until Gradio has taken the frame (resumed the generator)
    progress: str = ""      # the latest status line, less its final word


_RUNS: dict[str, _Run] = {}


def _session(request) -> str:
    return getattr(request, "session_hash", None) or "api"


def _setup(asset, upload, domain, operator, m, mask, mask_size, keep, factor, noise, iterations, restarts, lr,
           lam, csgm_lam, seed, device):
    """The form's values → the core's problem and options (exactly what the CLI builds from its flags)."""
    dom = get_domain(domain)
    dev = resolve_device(device or "auto")
    truth = load_truth(dom, image=upload, asset=asset)
    params = {"gaussian": {"m": _int(m)},
              "inpaint": {"mask": mask, "mask_size": _int_or_none(mask_size, "mask size"),
                          "keep": _float_or_none(keep, "keep fraction")},
              "superres": {"factor": _int_or_none(factor, "factor")}}.get(operator, {})
    seed = _int_or_none(seed, "seed")
    noise = _float_or_none(noise, "noise σ")
    problem = make_problem(truth, dom, operator, params, 0.0 if noise is None else noise,
                           0 if seed is None else seed, dev)
    options = Options(iterations=_int_or_none(iterations, "iterations"), restarts=_int_or_none(restarts, "restarts"),
                      lr=_float_or_none(lr, "learning rate"), lam=_float_or_none(lam, "λ (lam)"),
                      csgm_lam=_float_or_none(csgm_lam, "CSGM λ"))
    return problem, options


def reconstruct(asset, upload, domain, operator, m, mask, mask_size, keep, factor, noise, methods,
                iterations, restarts, lr, lam, csgm_lam, seed, device, request: gr.Request = None):
    """Measure the image and stream every method's reconstruction (see docs/app.md for the parameters)."""
    run = _RUNS[_session(request)] = _Run()
    frames = None
    try:
        problem, options = _setup(asset, upload, domain, operator, m, mask, mask_size, keep, factor, noise,
                                  iterations, restarts, lr, lam, csgm_lam, seed, device)
        frames = run_methods(problem, list(methods or []), options, every=EVERY)
        started = time.perf_counter()
        run.progress = f"device {describe_device(problem.device)}"
        yield (f"{run.progress} · starting", *[gr.skip()] * (len(OUTPUT_NAMES) - 1))
        frame = next(frames)  # priors are loaded and the methods checked before the first frame
        yield from _stream(run, problem, options, list(dict.fromkeys(methods)), frame, frames, started)
    except InputError as exc:
        raise gr.Error(str(exc)) from None
    except torch.cuda.OutOfMemoryError:
        raise gr.Error("the GPU ran out of memory; use a smaller m or fewer restarts, or device cpu") from None
    finally:
        run.finished.set()
        if frames is not None:
            frames.close()  # Stop or an error: let the solvers go now


def _stream(run: _Run, problem, options: Options, methods: list[str], frame: Frame, frames, started: float):
    """Yield the page's outputs at most ``MAX_FPS`` times a second, always the last frame; stop on request."""
    device_text = describe_device(problem.device)
    truth_img, view_img = display(problem.truth), display(problem.view())
    curve: list[tuple[int, float, str]] = []
    first, last_sent = True, 0.0
    while frame is not None:
        snap = frame.latest[frame.updated]
        if math.isfinite(snap.psnr[0]):
            curve.append((snap.iteration, snap.psnr[0], method_label(snap.method)))
        now = time.perf_counter()
        run.emitting = True
        over_time = now - started > max_seconds()
        stopping = run.stop.is_set() or over_time
        everyone = len(frame.latest) == len(methods)  # the first frame waits for every method's first snapshot
        if frame.done or stopping or (everyone and now - last_sent >= 1.0 / MAX_FPS):
            run.progress = _status(device_text, frame, options, methods, now - started)
            state = "stopped" if stopping else "done" if frame.done else "running"
            if over_time and not run.stop.is_set():
                state = f"time limit of {max_seconds():g} s per run reached · stopped"
            slots = []
            for i in range(MAX_SLOTS):
                if i < len(methods):
                    s = frame.latest.get(methods[i])
                    slots.append(gr.update(value=display(s.estimate) if s else None,
                                           label=_slot_label(methods[i], s), visible=True))
                else:
                    slots.append(gr.update(visible=False) if first else gr.skip())
            yield (f"{run.progress} · {state}",
                   gr.update(value=truth_img, label="ground truth") if first else gr.skip(),
                   gr.update(value=view_img, label=f"sensor view · m = {problem.operator.m}")
                   if first else gr.skip(),
                   *slots,
                   gr.update(value=_curve(curve), colors_in_legend=[method_label(n) for n in methods])
                   if first else _curve(curve),
                   _metrics_table(frame, methods))
            first, last_sent = False, now
            if stopping or frame.done:
                return
        run.emitting = False
        frame = next(frames, None)


def request_stop(request: gr.Request = None):
    """Stop's own handler (beside ``cancels``, which also drops a queued run): ask the session's run to stop and
    wait until no frame that read "running" can still be on its way, so the status reliably ends with "stopped"."""
    run = _RUNS.get(_session(request))
    if run is None or run.finished.is_set():
        return gr.skip()
    run.stop.set()
    deadline = time.monotonic() + STOP_WAIT
    while run.emitting and not run.finished.is_set() and time.monotonic() < deadline:
        time.sleep(0.02)
    return f"{run.progress} · stopped" if run.progress else "stopped"


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


# ---------------------------------------------------------------- form callbacks

def preview(asset, upload, domain):
    """The chosen image converted to the domain's shape (what the methods will see)."""
    try:
        dom = get_domain(domain)
        if not upload and not asset:
            return gr.update(value=None, label="ground truth")
        if not upload and get_asset(asset).domain != dom.name:
            return gr.skip()  # the domain is about to follow the picked asset
        return gr.update(value=display(load_truth(dom, image=upload, asset=asset)),
                         label=f"ground truth · {dom.size}×{dom.size}")
    except InputError as exc:
        raise gr.Error(str(exc)) from None


def method_choices(domain: str) -> list[tuple[str, str]]:
    return [(METHODS[name].label, name) for name in methods_for(domain)]


def on_domain_change(domain, m):
    """Whatever set the domain (a click, a gallery pick, an example): its gallery, methods offered, m marks.
    The methods' value is left alone here: an example sets it together with the domain."""
    return (gr.update(value=gallery_items(domain), selected_index=None),
            gr.update(choices=method_choices(domain)),
            gr.update(choices=list(PAPER_M[domain]), value=m if m in PAPER_M[domain] else None))


def form_for(domain, m) -> tuple:
    """For a domain the visitor switched to: its preset methods, m (kept where valid), the hidden square (half
    the side). (Handlers never read the methods: their choices in the session follow the domain, and a value
    read in between would be refused.)"""
    valid_m = isinstance(m, (int, float)) and 1 <= m <= get_domain(domain).n
    return (gr.update(choices=method_choices(domain), value=default_methods(domain)),
            gr.skip() if valid_m else DEFAULT_M[domain], get_domain(domain).size // 2)


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
    return [gr.update(visible=operator == name) for name in ("gaussian", "inpaint", "superres")]


def on_mask(mask):
    return gr.update(visible=mask == "center"), gr.update(visible=mask == "random")


# ---------------------------------------------------------------- layout

CSS = """
#images-row img { image-rendering: pixelated; }
#status textarea { font-family: ui-monospace, monospace; font-size: 0.85rem; }
#images-row [data-testid="block-label"] { white-space: normal; max-width: calc(100% - 12px); line-height: 1.25; }
#metrics table { font-size: 0.8rem; }
#title h1 { margin-bottom: 0.2rem; }
"""

INTRO = f"""# Compressed sensing with generative models
Measure an image with far fewer numbers than pixels, then reconstruct it: **Lasso** looks for a
sparse image in a fixed basis, **CSGM** searches the latent space of a trained generator.
After Bora, Jalal, Price & Dimakis, *Compressed Sensing using Generative Models* (ICML 2017,
[arXiv:1703.03208]({PAPER_URL})). Pick an image and press **Run**.
"""

EXPLANATION = f"""### What is compared, and why
The sensor records **y = A x\\* + η** with m numbers; the image x\\* has n pixel values (784 for an
MNIST digit, 12 288 for a 64×64 face) and m ≪ n, so many images explain y. Each method adds a
different belief about what images look like:

- **Lasso (pixel / DCT / wavelet)** — min_c ½‖y − AΨc‖² + λ‖c‖₁, x̂ = Ψĉ, solved by FISTA: the image is
  sparse in the basis Ψ (pixels, 2-D DCT, Haar wavelet). No training, works on any image, needs many
  measurements.
- **CSGM** — min_z ‖y − A G(z)‖² + λ‖z‖², x̂ = G(ẑ), by Adam from several random starts: the image is
  an output of a trained generator G (a VAE for digits, a DCGAN for faces). Works from 5–10× fewer
  measurements — when x\\* lies near the range of G.

**Representation error.** CSGM can only return images G can make: its error is at least the distance
from x\\* to the range of G, however many measurements are taken (Lasso keeps improving with m and
eventually wins). The face generator was trained on the synthetic DigiFace-1M faces, so real
photographs lie off its range: CSGM returns a plausible *other* face. The gallery's generated faces lie
on the range and show the method at its best; upload a photo to see the caveat.

Operators: a **Gaussian** matrix with N(0, 1/m) entries (the sensor view is the back-projection
Aᵀy), **inpainting** (hidden pixels shown grey), **super-resolution** (block averages). Errors are
per-pixel MSE on [0, 1]; PSNR = 10·log₁₀(1/MSE). Paper: [{PAPER_URL}]({PAPER_URL}).
"""


_MISSING_PRIORS: dict[str, str] = {}


def load_priors(device: torch.device) -> dict[str, str]:
    """Load every prior once at start; ``{name: fix message}`` for those that could not be loaded."""
    _MISSING_PRIORS.clear()
    for name, prior in PRIORS.items():
        try:
            prior.load(device)
        except InputError as exc:
            _MISSING_PRIORS[name] = str(exc)
    return dict(_MISSING_PRIORS)


def warm_up(device: torch.device) -> None:
    """One 1-iteration run of every loadable method at start, so a visitor's first Run does not pay the
    one-time costs (lazy imports such as the optimiser's, first kernels)."""
    for name in DOMAINS:
        dom = get_domain(name)
        usable = [n for n in methods_for(name) if n.removeprefix("csgm-") not in _MISSING_PRIORS]
        problem = make_problem(torch.zeros((1, *dom.shape)), dom, "gaussian", {"m": 10}, 0.0, 0, device)
        run_to_end(problem, usable, Options(iterations=1, restarts=1))


def default_methods(domain: str) -> list[str]:
    """The preselected methods: the domain's preset, less CSGM with a prior that could not be loaded."""
    offered = [n for n in methods_for(domain) if n.removeprefix("csgm-") not in _MISSING_PRIORS]
    return [n for n in DEFAULT_METHODS[domain] if n in offered] or offered[:1]


def _examples() -> tuple[list[list], list[str]]:
    """The paper's figures as one-click presets (those whose images are in the gallery)."""
    faces3 = ["lasso-dct", "lasso-wavelet", "csgm-dcgan"]
    #     label, asset, domain, operator, m, mask, mask_size, keep, factor, noise, methods
    presets = [
        ("MNIST digit · m = 100 · Lasso vs VAE", pick_asset("mnist", "digit-test-1591", nth=5), "mnist",
         "gaussian", 100, "center", 14, 0.5, 2, 0.0, ["lasso-pixel", "lasso-dct", "csgm-vae"]),
        ("Face · m = 500 · DCT vs wavelet vs DCGAN", pick_asset("faces", "face-gen-seed-1000", nth=0), "faces",
         "gaussian", 500, "center", 32, 0.5, 4, 0.0, faces3),
        ("Face · 32×32 centre hole", pick_asset("faces", "face-gen-seed-1001", nth=1), "faces",
         "inpaint", 500, "center", 32, 0.5, 4, 0.0, faces3),
        ("Face · super-resolution ×4", pick_asset("faces", "face-gen-seed-1002", nth=2), "faces",
         "superres", 500, "center", 32, 0.5, 4, 0.0, faces3),
        ("Real photo · m = 500 · representation error", pick_asset("faces", "astronaut-face", in_range=False),
         "faces", "gaussian", 500, "center", 32, 0.5, 4, 0.0, faces3),
    ]
    rows, labels = [], []
    for label, asset, domain, *params, methods in presets:
        if asset is None:
            continue
        rows.append([asset, None, domain, *params, [n for n in methods if n in METHODS], "", "", "", "", "", 0, "auto"])
        labels.append(label)
    return rows, labels


# ---------------------------------------------------------------- tab: measurements vs error (a small sweep)

SWEEP_DEFAULT_M = {"mnist": [25, 100, 400], "faces": [100, 500, 2500]}
SWEEP_SOURCES = {"mnist": ["heldout", "real"], "faces": ["inrange", "real"]}
SWEEP_X, SWEEP_Y, SWEEP_COLOR = "m", "log10 MSE", "method"
SWEEP_COLUMNS = ["method", "m", "images", "mean MSE", "± 95 % CI", "log10 mean MSE"]


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


def run_small_sweep(domain, methods, ms, images, source, request: gr.Request = None, progress=gr.Progress()):
    """A small error-vs-m sweep (``cs_core.experiments.sweep``, noiseless, seed 0); streams the curve and the
    table after each finished (method, m) group, moves the progress bar after each image; the status ends
    with ``done`` (or ``stopped``)."""
    rows, stop = None, _SWEEP_STOPS.setdefault(_session(request), threading.Event())
    stop.clear()
    try:
        device = resolve_device("auto")
        methods, ms = list(dict.fromkeys(methods or [])), sorted({_int(m) for m in ms or []})
        if not ms:
            raise InputError("choose at least one value of m")
        count = _int(images)
        n_images = len(load_images(domain, source, count).names)
        groups, started = len(methods) * len(ms), time.perf_counter()
        head = f"device {describe_device(device)} · {domain}/{source} · {n_images} image{'' if n_images == 1 else 's'}"
        yield f"{head} · 0/{groups} groups · running", None, pd.DataFrame(columns=SWEEP_COLUMNS)
        collected, finished = [], 0
        total = groups * n_images
        progress(0, desc=f"0/{total} reconstructions")
        rows = sweep(domain, methods, ms, source, count, 0.0, 0, device)
        for row in rows:
            collected.append(row)
            progress(len(collected) / total, desc=f"{len(collected)}/{total} reconstructions "
                                                  f"(last: {row['method']}, m = {row['m']})")
            if stop.is_set():
                yield f"{head} · {finished}/{groups} groups · stopped", gr.skip(), gr.skip()
                return
            if sum(r["method"] == row["method"] and r["m"] == row["m"] for r in collected) < n_images:
                continue
            finished += 1
            curve, table = _sweep_outputs(collected, methods)
            state = "done" if finished == groups else "running"
            yield (f"{head} · {finished}/{groups} groups (last: {row['method']}, m = {row['m']}) · "
                   f"{time.perf_counter() - started:.1f} s · {state}", curve, table)
    except InputError as exc:
        raise gr.Error(str(exc)) from None
    except torch.cuda.OutOfMemoryError:
        raise gr.Error("the GPU ran out of memory; use fewer images or smaller m") from None
    finally:
        if rows is not None:
            rows.close()  # Stop: let the solvers go now


_SWEEP_STOPS: dict[str, threading.Event] = {}


def request_sweep_stop(request: gr.Request = None):
    """Stop: the sweep ends after the (method, m) batch it is computing, with the status ``stopped``."""
    _SWEEP_STOPS.setdefault(_session(request), threading.Event()).set()


def _sweep_domain_form(domain, source=None):
    """Methods, m values and sources offered for the domain (presets selected), and its full figure."""
    source = source if source in SWEEP_SOURCES[domain] else SWEEP_SOURCES[domain][0]
    figure, caption = sweep_figure(domain, source)
    return (gr.update(choices=method_choices(domain), value=default_methods(domain)),
            gr.update(choices=list(PAPER_M[domain]), value=SWEEP_DEFAULT_M[domain]),
            gr.update(choices=SWEEP_SOURCES[domain], value=source), figure, caption)


def build_sweep_tab(demo: gr.Blocks) -> None:
    """The "Measurements vs error" tab: a small sweep drawn live beside the precomputed full figure."""
    domain0 = "mnist"
    figure0, caption0 = sweep_figure(domain0, SWEEP_SOURCES[domain0][0])
    all_m = sorted({m for values in PAPER_M.values() for m in values})
    with gr.Tab("Measurements vs error", elem_id="sweep-tab"):
        gr.Markdown("Mean per-pixel error vs the number of Gaussian measurements m, on a few images "
                    "(noiseless, seed 0, Lasso's λ chosen on validation images as in `docs/RESULTS.md`).")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300):
                domain = gr.Radio(DOMAIN_CHOICES, value=domain0, label="Domain", elem_id="sweep-domain")
                # Built with every choice so that an API call for any domain reaches the core's own checks;
                # the page narrows them to the domain's.
                methods = gr.CheckboxGroup([(m_.label, n) for n, m_ in METHODS.items()],
                                           value=default_methods(domain0), label="Methods", elem_id="sweep-methods")
                ms = gr.CheckboxGroup(all_m, value=SWEEP_DEFAULT_M[domain0], label="m values (the paper's)",
                                      elem_id="sweep-m")
                images = gr.Slider(1, 10, value=3, step=1, label="number of images", elem_id="sweep-images")
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

    run_btn.click(run_small_sweep, [domain, methods, ms, images, source], [status, plot, table],
                  api_name="sweep", concurrency_limit=1, show_progress="full", show_progress_on=[progress_bar])
    stop_btn.click(request_sweep_stop, None, None, api_visibility="private", show_progress="hidden")
    hidden = dict(api_visibility="private", show_progress="hidden")
    domain.input(_sweep_domain_form, [domain], [methods, ms, source, figure, caption], **hidden)
    source.input(lambda d, s: sweep_figure(d, s), [domain, source], [figure, caption], **hidden)
    demo.load(_sweep_domain_form, [domain, source], [methods, ms, source, figure, caption], **hidden)


def build_demo() -> gr.Blocks:
    """The app's Blocks (priors are loaded here, once)."""
    device = resolve_device("auto")
    missing = load_priors(device)
    warm_up(device)
    domain0 = "mnist"
    asset0 = default_asset(domain0)
    methods0 = default_methods(domain0)
    notice = ""
    if missing:
        notice = "\n".join(f"> ⚠ Prior **{name}** is not available, so CSGM ({name}) cannot run: {msg}"
                           for name, msg in missing.items())

    with gr.Blocks(title="Compressed sensing with generative models", delete_cache=(600, 3600),
                   fill_width=True) as demo:
        gr.Markdown(INTRO, elem_id="title")
        if notice:
            gr.Markdown(notice, elem_id="notice")
        with gr.Tab("Reconstruct", elem_id="reconstruct-tab"), gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=330):
                domain = gr.Radio(DOMAIN_CHOICES, value=domain0, label="Domain", elem_id="domain")
                with gr.Tab("Gallery"):
                    gallery = gr.Gallery(gallery_items(domain0), columns=4, height=150, allow_preview=False,
                                         show_label=False, object_fit="contain", elem_id="gallery")
                    asset = gr.Dropdown(asset_choices(), value=asset0, label="Gallery image", elem_id="asset")
                with gr.Tab("Upload"):
                    upload = gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                      label="Your image (converted to the domain's shape)", height=170,
                                      elem_id="upload")
                    upload.preprocess = checked_upload(upload.preprocess)
                operator = gr.Radio(OPERATOR_CHOICES, value="gaussian", label="Operator", elem_id="operator")
                with gr.Group(visible=True) as gaussian_box:
                    m = gr.Number(DEFAULT_M[domain0], precision=0, label="m, the number of measurements", elem_id="m")
                    m_marks = gr.Radio(list(PAPER_M[domain0]), value=DEFAULT_M[domain0], label="the paper's values of m",
                                       elem_id="m-marks")
                with gr.Group(visible=False) as inpaint_box:
                    mask = gr.Radio([("centre square", "center"), ("random pixels", "random")], value="center",
                                    label="Hidden region", elem_id="mask")
                    mask_size = gr.Number(14, precision=0, label="side of the hidden centre square (pixels)",
                                          elem_id="mask-size")
                    keep = gr.Slider(0.01, 1.0, value=0.5, step=0.01, label="fraction of pixels kept",
                                     visible=False, elem_id="keep")
                with gr.Group(visible=False) as superres_box:
                    factor = gr.Number(2, precision=0, label="factor (divides the side: 2, 4, 7, 14 for digits; "
                                       "2, 4, 8, 16, 32 for faces)", elem_id="factor")
                noise = gr.Number(0.0, label="noise σ per measurement", minimum=0, elem_id="noise")
                # Built with every method so that an API call for any domain reaches the core's own checks
                # (clear errors); the page narrows the choices to the domain's on load.
                methods = gr.CheckboxGroup([(m_.label, n) for n, m_ in METHODS.items()], value=methods0,
                                           label="Methods", elem_id="methods")
                with gr.Accordion("Advanced settings", open=False,
                                  elem_id="advanced"):
                    with gr.Row():
                        iterations = gr.Textbox(label="iterations / Adam steps", placeholder=default_text("steps"),
                                                elem_id="iterations", min_width=120)
                        restarts = gr.Textbox(label="CSGM restarts", placeholder=default_text("restarts"),
                                              elem_id="restarts", min_width=120)
                    with gr.Row():
                        lr = gr.Textbox(label="CSGM learning rate", placeholder=default_text("lr"), elem_id="lr",
                                        min_width=120)
                        csgm_lam = gr.Textbox(label="CSGM λ (‖z‖² weight)", placeholder=default_text("lam"),
                                              elem_id="csgm-lam", min_width=120)
                    with gr.Row():
                        lam = gr.Textbox(label="Lasso λ", placeholder="default: a fraction of λ_max = ‖ΨᵀAᵀy‖∞",
                                         elem_id="lam", min_width=120)
                        seed = gr.Number(0, precision=0, label="seed", elem_id="seed", min_width=120)
                    device_choice = gr.Radio(list(DEVICE_CHOICES), value="auto",
                                             label=f"device (auto = {describe_device(device)})", elem_id="device")
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
                    recon = [gr.Image(label=METHODS[methods0[i]].label if i < len(methods0) else f"method {i + 1}",
                                      visible=i < len(methods0), elem_id=f"recon-{i}", **image_kw)
                             for i in range(MAX_SLOTS)]
                with gr.Row():
                    convergence = gr.LinePlot(
                        None, x=CURVE_X, y=CURVE_Y, color=CURVE_COLOR, title="Convergence",
                        x_title="iteration (Lasso) / Adam step (CSGM)", y_title="PSNR (dB)",
                        color_map={m_.label: method_color(n) for n, m_ in METHODS.items()},
                        height=280, elem_id="convergence", scale=1, label="Convergence", show_label=False)
                    metrics = gr.Dataframe(pd.DataFrame(columns=METRIC_COLUMNS), label="Metrics", interactive=False,
                                           elem_id="metrics", scale=1, show_row_numbers=False)
                rows, labels = _examples()
                form = [asset, upload, domain, operator, m, mask, mask_size, keep, factor, noise, methods,
                        iterations, restarts, lr, lam, csgm_lam, seed, device_choice]
                examples = None
                if rows:
                    examples = gr.Examples(rows, inputs=form, example_labels=labels,
                                           label="The paper's figures — click, then Run", elem_id="examples")
                gr.Markdown(EXPLANATION, elem_id="explanation")
        build_sweep_tab(demo)

        outputs = [status, truth, measurements, *recon, convergence, metrics]
        run_event = run_btn.click(reconstruct, form, outputs, api_name="reconstruct", concurrency_limit=concurrency(),
                                  show_progress="hidden")
        stop_btn.click(request_stop, None, [status], cancels=[run_event], api_name="stop")

        hidden = dict(api_visibility="private", show_progress="hidden")
        domain.change(on_domain_change, [domain, m], [gallery, methods, m_marks], **hidden)
        domain.input(on_domain_input, [domain, asset, upload, m], [methods, m, mask_size, asset], **hidden)
        asset.input(on_pick_asset, [asset, domain, m], [domain, upload, methods, m, mask_size], **hidden)
        gallery.select(on_gallery_select, [domain], [asset, upload], **hidden)
        upload.upload(lambda: None, None, [asset], **hidden)
        for trigger in (asset.change, upload.change, domain.change):
            trigger(preview, [asset, upload, domain], [truth], **hidden)
        m_marks.input(lambda v: v, [m_marks], [m], **hidden)
        operator.change(on_operator, [operator], [gaussian_box, inpaint_box, superres_box], **hidden)
        mask.change(on_mask, [mask], [mask_size, keep], **hidden)
        demo.load(on_domain_change, [domain, m], [gallery, methods, m_marks], **hidden)
        if examples is not None:  # loading an example restores every input's initial choices: narrow them again
            examples.load_input_event.then(on_domain_change, [domain, m], [gallery, methods, m_marks], **hidden)
        demo.load(preview, [asset, upload, domain], [truth], **hidden)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return demo


THEME = gr.themes.Soft()


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, share: bool = False, **kwargs):
    """``demo.launch`` with the app's theme and CSS (Gradio 6 takes them here), offline by default."""
    kwargs.setdefault("max_file_size", MAX_FILE_BYTES)  # uploads above it are refused by Gradio itself
    return demo.launch(server_name=host, server_port=port, share=share, theme=THEME, css=CSS, **kwargs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Compressed sensing with generative models: the demo.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to serve on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link (off by default)")
    parser.add_argument("--concurrency", type=int, help="runs at once on the device (default 1, env CSGM_DEMO_CONCURRENCY)")
    parser.add_argument("--max-seconds", type=float, help="wall-time cap per run (default 120, env CSGM_DEMO_MAX_SECONDS)")
    args = parser.parse_args(argv)
    if args.concurrency is not None:
        os.environ["CSGM_DEMO_CONCURRENCY"] = str(args.concurrency)
    if args.max_seconds is not None:
        os.environ["CSGM_DEMO_MAX_SECONDS"] = str(args.max_seconds)
    launch(build_demo(), args.host, args.port, args.share)


if __name__ == "__main__":
    main()
