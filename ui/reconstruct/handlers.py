"""Tab "Reconstruct": measure an image, reconstruct it with Lasso and CSGM side by side, watch them converge.

Layout and thin callbacks only: every number comes from ``cs_core`` (the same calls as
``python -m cs_core reconstruct``); this module converts results to display arrays.
"""
from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import torch

from cs_core.assets import get_asset, list_assets, load_truth
from cs_core.devices import DEVICE_CHOICES, describe_device, resolve_device
from cs_core.domains import DOMAINS, get_domain
from cs_core.errors import InputError
from cs_core.experiments import PAPER_M
from cs_core.export import RunRecord, write_csv, write_gif, write_png
from cs_core.images import load_image_array
from cs_core.operators import build_operator
from cs_core.operators import blur as blur_op
from cs_core.operators import fourier as fourier_op
from cs_core.palette import method_color
from cs_core.priors import PRIORS
from cs_core.problem import OPERATOR_STREAM, make_problem, stream
from cs_core.session import Frame, run_methods
from cs_core.solvers import METHODS, Options, methods_for

from . import kiosk, links
from .common import (DOMAIN_CHOICES, HIDDEN, MAX_FPS, PAPER_URL, Run, Runs, as_int, default_methods, display,
                     float_or_none, int_or_none, max_seconds, concurrency, method_choices, method_label, user_errors)

TITLE = "Reconstruct"
ELEM_ID = "reconstruct-tab"
MAX_SLOTS = max(len(methods_for(d)) for d in DOMAINS)  # reconstruction image slots (the most a domain offers)
EVERY = 5                          # a snapshot every 5 iterations / Adam steps
DEFAULT_M = {"mnist": 100, "faces": 500}
DEFAULT_ASSET = {"mnist": "digit-test-3856"}
OPERATOR_CHOICES = [("Gaussian matrix", "gaussian"), ("Inpainting", "inpaint"), ("Super-resolution", "superres"),
                    ("MRI (k-space lines)", "fourier"), ("Blur", "blur")]
OPERATOR_BOXES = ("gaussian", "inpaint", "superres", "fourier", "blur")  # operators with their own controls
METRIC_COLUMNS = ["method", "MSE [0,1]", "PSNR dB", "SSIM", "seconds", "iters"]
CURVE_X, CURVE_Y, CURVE_COLOR = "iteration", "psnr", "method"
OUTPUT_NAMES = ["status", "truth", "measurements", *[f"recon-{i}" for i in range(MAX_SLOTS)], "convergence", "metrics"]
RUNS = Runs()
MASK_BRUSH = "#ff00ff"             # the colour a visitor paints the hidden region with
EXPORTS = [("gif", "⬇ convergence (GIF)"), ("png", "⬇ final grid (PNG)"), ("csv", "⬇ convergence data (CSV)")]
IMAGING_DEFAULTS = {"accel": fourier_op.DEFAULT_ACCEL, "center": fourier_op.DEFAULT_CENTER, "lines": "random",
                    "kernel": "gaussian", "blur_size": "", "sigma": blur_op.DEFAULT_SIGMA,
                    "length": blur_op.DEFAULT_LENGTH, "angle": blur_op.DEFAULT_ANGLE}  # the fourier/blur controls


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


def default_text(setting: str) -> str:
    """Placeholder of an advanced field: each method's default."""
    parts = [f"{METHODS[name].iterations(Options())} {label}" for name, label in
             (("lasso-dct", "Lasso"), ("tv", "TV"), ("dip", "DIP"))] if setting == "steps" else []
    parts += [f"{getattr(p.defaults, setting):g} {p.name.upper()}" for p in PRIORS.values()]
    return "default: " + ", ".join(parts)


def painted(editor) -> np.ndarray | None:
    """The mask editor's value → how much of each display pixel is painted, ``(H, W)`` in [0, 1] (None if blank)."""
    layers = [layer for layer in (editor or {}).get("layers") or [] if layer is not None]
    if not layers:
        return None
    alpha = np.max([np.asarray(layer)[..., 3] for layer in layers if np.asarray(layer).ndim == 3], axis=0,
                   initial=0)
    return alpha.astype(np.float64) / 255.0 if np.any(alpha) else None


def imaging_params(operator, accel=None, center=None, lines=None, kernel=None, blur_size=None, sigma=None,
                   length=None, angle=None) -> dict:
    """The fourier/blur controls → the operator's params (blank = its default), as the CLI's flags."""
    if operator == "fourier":
        return {"accel": float_or_none(accel, "acceleration R"), "center": float_or_none(center, "centre fraction"),
                "lines": lines or None}
    if operator == "blur":
        return {"kernel": kernel or None, "size": int_or_none(blur_size, "kernel size"),
                "sigma": float_or_none(sigma, "blur σ"), "length": float_or_none(length, "motion length"),
                "angle": float_or_none(angle, "motion angle")}
    return {}


def _setup(asset, upload, domain, operator, m, mask, mask_size, keep, factor, noise, iterations, restarts, lr,
           lam, csgm_lam, seed, device, mask_editor=None, imaging: dict | None = None):
    """The form's values → the core's problem and options (exactly what the CLI builds from its flags)."""
    dom = get_domain(domain)
    dev = resolve_device(device or "auto")
    truth = load_truth(dom, image=upload, asset=asset)
    params = {"gaussian": {"m": as_int(m)},
              "inpaint": {"mask": mask, "mask_size": int_or_none(mask_size, "mask size"),
                          "mask_image": painted(mask_editor) if mask == "drawn" else None,
                          "keep": float_or_none(keep, "keep fraction")},
              "superres": {"factor": int_or_none(factor, "factor")}}.get(operator) or imaging_params(operator,
                                                                                                    **(imaging or {}))
    seed = int_or_none(seed, "seed")
    noise = float_or_none(noise, "noise σ")
    problem = make_problem(truth, dom, operator, params, 0.0 if noise is None else noise,
                           0 if seed is None else seed, dev)
    options = Options(iterations=int_or_none(iterations, "iterations"), restarts=int_or_none(restarts, "restarts"),
                      lr=float_or_none(lr, "learning rate"), lam=float_or_none(lam, "λ (lam)"),
                      csgm_lam=float_or_none(csgm_lam, "CSGM λ"))
    return problem, options


@user_errors(oom="the GPU ran out of memory; use a smaller m or fewer restarts, or device cpu")
def reconstruct(asset, upload, domain, operator, m, mask, mask_size, keep, factor, noise, methods,
                iterations, restarts, lr, lam, csgm_lam, seed, device, mask_editor=None, accel=None, center=None,
                lines=None, kernel=None, blur_size=None, sigma=None, length=None, angle=None,
                request: gr.Request = None):
    """Measure the image and stream every method's reconstruction (see docs/app.md for the parameters)."""
    run = RUNS.start(request)
    frames = None
    try:
        imaging = dict(accel=accel, center=center, lines=lines, kernel=kernel, blur_size=blur_size, sigma=sigma,
                       length=length, angle=angle)
        problem, options = _setup(asset, upload, domain, operator, m, mask, mask_size, keep, factor, noise,
                                  iterations, restarts, lr, lam, csgm_lam, seed, device, mask_editor, imaging)
        frames = run_methods(problem, list(methods or []), options, every=EVERY)
        run.record = RunRecord(problem.truth, problem.view(), {n: method_label(n) for n in dict.fromkeys(methods)},
                               problem.operator.m)
        started = time.perf_counter()
        run.progress = f"device {describe_device(problem.device)}"
        yield (f"{run.progress} · starting", *[gr.skip()] * (len(OUTPUT_NAMES) - 1))
        frame = next(frames)  # priors are loaded and the methods checked before the first frame
        yield from _stream(run, problem, options, list(dict.fromkeys(methods)), frame, frames, started)
    finally:
        run.finished.set()
        if frames is not None:
            frames.close()  # Stop or an error: let the solvers go now


def _stream(run: Run, problem, options: Options, methods: list[str], frame: Frame, frames, started: float):
    """Yield the page's outputs at most ``MAX_FPS`` times a second, always the last frame; stop on request."""
    device_text = describe_device(problem.device)
    truth_img, view_img = display(run.record.truth), display(run.record.view)
    curve: list[tuple[int, float, str]] = []
    first, last_sent = True, 0.0
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

@user_errors
def preview(asset, upload, domain):
    """The chosen image converted to the domain's shape (what the methods will see)."""
    dom = get_domain(domain)
    if not upload and not asset:
        return gr.update(value=None, label="ground truth")
    if not upload and get_asset(asset).domain != dom.name:
        return gr.skip()  # the domain is about to follow the picked asset
    return gr.update(value=display(load_truth(dom, image=upload, asset=asset)),
                     label=f"ground truth · {dom.size}×{dom.size}")


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
    return [gr.update(visible=operator == name) for name in OPERATOR_BOXES]


def on_kernel(kernel):
    motion = kernel == "motion"
    return gr.update(visible=not motion), gr.update(visible=motion), gr.update(visible=motion)


def sensor_pattern(domain, operator, seed, accel, center, lines, kernel, blur_size, sigma, length, angle):
    """What the chosen sensor samples (the k-space mask, the blur kernel), drawn as the run will draw it;
    hidden for operators without one, and left blank while a parameter is invalid (Run says why)."""
    if operator not in ("fourier", "blur"):
        return gr.update(value=None, visible=False)
    label = "k-space lines measured (centre = low frequencies)" if operator == "fourier" else "blur kernel"
    try:
        params = imaging_params(operator, accel, center, lines, kernel, blur_size, sigma, length, angle)
        seed = int_or_none(seed, "seed")
        op = build_operator(operator, get_domain(domain), params, stream(0 if seed is None else seed, OPERATOR_STREAM),
                            torch.device("cpu"))
    except InputError:
        return gr.update(value=None, visible=True, label=label)
    return gr.update(value=display(op.pattern()), visible=True, label=label)


def on_mask(mask):
    return gr.update(visible=mask == "center"), gr.update(visible=mask == "random"), gr.update(visible=mask == "drawn")


@user_errors
def mask_canvas(mask, asset, upload, domain):
    """With the drawn mask chosen: a fresh canvas over the current image (as displayed) to paint on."""
    if mask != "drawn":
        return gr.skip()
    image = display(load_truth(get_domain(domain), image=upload, asset=asset)) if upload or asset else None
    if image is not None and image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return {"background": image, "layers": [], "composite": image}


EXPLANATION = f"""### What is compared, and why
The sensor records **y = A x\\* + η** with m numbers; the image x\\* has n pixel values (784 for an
MNIST digit, 12 288 for a 64×64 face) and m ≪ n, so many images explain y. Each method adds a
different belief about what images look like:

- **Lasso (pixel / DCT / wavelet)** — min_c ½‖y − AΨc‖² + λ‖c‖₁, x̂ = Ψĉ, solved by FISTA: the image is
  sparse in the basis Ψ (pixels, 2-D DCT, Haar wavelet). No training, works on any image, needs many
  measurements. λ is chosen per image from y alone (cross-validation on the measurements, or the noise
  level σ√m), on a path from large λ to small that you watch first.
- **CSGM** — min_z ‖y − A G(z)‖² + λ‖z‖², x̂ = G(ẑ), from several random starts (Adam for the VAE,
  L-BFGS for the DCGAN): the image is
  an output of a trained generator G (a VAE for digits, a DCGAN for faces). Works from 5–10× fewer
  measurements — when x\\* lies near the range of G.

- **Beyond the range** (faces) — each starts from CSGM's answer and then relaxes it: **Sparse-Gen**
  (Dhar et al. 2018) adds a deviation ν sparse in the wavelet basis, min ‖y − A(G(z) + ν)‖² + λ‖z‖² +
  λ_ν‖Ψν‖₁; **fine-tuned** moves z and a private copy of the generator's weights (in the spirit of
  IAGAN); **ILO** searches an intermediate layer of G within a ball around CSGM's (in the spirit of
  Daras et al. 2021). **Best the DCGAN can do** is an *oracle*: it sees the true image and returns the
  closest G(z), min_z ‖x\* − G(z)‖² — the floor no number of measurements lets CSGM beat.

**Representation error.** CSGM can only return images G can make: its error is at least the distance
from x\\* to the range of G, however many measurements are taken (Lasso keeps improving with m and
eventually wins). The face generator was trained on the synthetic DigiFace-1M faces, so real
photographs lie off its range: CSGM returns a plausible *other* face. The gallery's generated faces lie
on the range and show the method at its best; upload a photo to see the caveat.

- **TV** — min_x ½‖y − Ax‖² + λ·TV(x) by Chambolle–Pock: the image is piecewise constant. **Deep Image
  Prior** — an untrained conv net with a random input, its weights fitted to y by Adam: the network's
  structure alone is the prior. Neither uses any training data.

Operators: a **Gaussian** matrix with N(0, 1/m) entries (the sensor view is the back-projection
Aᵀy), **inpainting** (hidden pixels shown grey), **super-resolution** (block averages), **MRI**
(whole lines of the 2-D Fourier transform, 1 in R kept plus the fully sampled centre; the view is the
zero-filled image, the pattern the k-space mask) and **blur** (a Gaussian or motion kernel, periodic
boundary; the view is the blurred image). Errors are
per-pixel MSE on [0, 1]; PSNR = 10·log₁₀(1/MSE). Paper: [{PAPER_URL}]({PAPER_URL}).
"""


def examples() -> tuple[list[list], list[str]]:
    """The paper's figures as one-click presets (those whose images are in the gallery)."""
    faces3 = ["lasso-dct", "lasso-wavelet", "csgm-dcgan"]
    untrained = ["lasso-wavelet", "tv", "dip", "csgm-dcgan"]
    beyond = ["csgm-dcgan", "sparse-gen-dcgan", "finetune-dcgan", "oracle-dcgan"]
    #     label, asset, domain, operator, m, mask, mask_size, keep, factor, noise, methods[, {imaging controls,
    #     iterations, restarts}]
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
        ("MRI ×4", pick_asset("faces", "face-gen-seed-1003", nth=3), "faces",
         "fourier", 500, "center", 32, 0.5, 4, 0.01, untrained, dict(accel=4, center=0.08, lines="random")),
        ("Deblur", pick_asset("faces", "lfw-face-0", in_range=False), "faces",
         "blur", 500, "center", 32, 0.5, 4, 0.01, untrained, dict(kernel="motion", length=9, angle=30)),
        # CSGM's first phase shortened to 200 steps × 1 restart so that four methods finish in about a minute
        # on one CPU core (each range-extending method runs its own CSGM first; see docs/app.md)
        ("Real photo · m = 2500 · CSGM vs Sparse-Gen vs fine-tuned", pick_asset("faces", "astronaut-face", in_range=False),
         "faces", "gaussian", 2500, "center", 32, 0.5, 4, 0.01, beyond, dict(iterations="200", restarts="1")),
    ]
    rows, labels = [], []
    for label, asset, domain, *params, methods, extra in [p if len(p) == 12 else (*p, {}) for p in presets]:
        if asset is None:
            continue
        controls = {**IMAGING_DEFAULTS, **{k: v for k, v in extra.items() if k in IMAGING_DEFAULTS}}
        rows.append([asset, None, domain, *params, [n for n in methods if n in METHODS], extra.get("iterations", ""),
                     extra.get("restarts", ""), "", "", "", 0, "auto", *[controls[name] for name in IMAGING_DEFAULTS]])
        labels.append(label)
    return rows, labels


def build(demo: gr.Blocks, device: torch.device) -> None:
    """The tab's contents: the form, the live images, the convergence curve and the metrics."""
    domain0 = "mnist"
    asset0 = default_asset(domain0)
    methods0 = default_methods(domain0)
    with gr.Row(equal_height=False):
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
                mask = gr.Radio([("centre square", "center"), ("random pixels", "random"), ("drawn by you", "drawn")],
                                value="center", label="Hidden region", elem_id="mask")
                mask_size = gr.Number(14, precision=0, label="side of the hidden centre square (pixels)",
                                      elem_id="mask-size")
                keep = gr.Slider(0.01, 1.0, value=0.5, step=0.01, label="fraction of pixels kept",
                                 visible=False, elem_id="keep")
                mask_editor = gr.ImageEditor(
                    type="numpy", image_mode="RGBA", sources=[], transforms=[], layers=False, visible=False,
                    brush=gr.Brush(colors=[MASK_BRUSH], default_color=MASK_BRUSH, color_mode="fixed", default_size=16),
                    eraser=gr.Eraser(default_size=16), label="Paint what to hide", height=300,
                    elem_id="mask-editor")
            with gr.Group(visible=False) as superres_box:
                factor = gr.Number(2, precision=0, label="factor (divides the side: 2, 4, 7, 14 for digits; "
                                   "2, 4, 8, 16, 32 for faces)", elem_id="factor")
            with gr.Group(visible=False) as fourier_box:
                with gr.Row():
                    accel = gr.Number(IMAGING_DEFAULTS["accel"], label="acceleration R (keep 1 line in R)",
                                      minimum=1, elem_id="accel", min_width=120)
                    center = gr.Number(IMAGING_DEFAULTS["center"], label="fully sampled centre (fraction of lines)",
                                       minimum=0, maximum=1, elem_id="center", min_width=120)
                lines = gr.Radio([("uniformly random", "random"), ("variable density", "variable")],
                                 value=IMAGING_DEFAULTS["lines"], label="other lines", elem_id="lines")
            with gr.Group(visible=False) as blur_box:
                kernel = gr.Radio([("Gaussian", "gaussian"), ("motion", "motion")], value=IMAGING_DEFAULTS["kernel"],
                                  label="kernel", elem_id="kernel")
                with gr.Row():
                    sigma = gr.Number(IMAGING_DEFAULTS["sigma"], label="σ (pixels)", minimum=0.1, elem_id="sigma",
                                      min_width=100)
                    length = gr.Number(IMAGING_DEFAULTS["length"], label="length (pixels)", minimum=1,
                                       visible=False, elem_id="length", min_width=100)
                    angle = gr.Number(IMAGING_DEFAULTS["angle"], label="angle (degrees)", visible=False,
                                      elem_id="angle", min_width=100)
                    blur_size = gr.Textbox(label="kernel size (pixels)", placeholder="default: fits the kernel",
                                           elem_id="blur-size", min_width=100)
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
                    lr = gr.Textbox(label="CSGM / DIP learning rate", placeholder=default_text("lr"), elem_id="lr",
                                    min_width=120)
                    csgm_lam = gr.Textbox(label="CSGM λ (‖z‖² weight)", placeholder=default_text("lam"),
                                          elem_id="csgm-lam", min_width=120)
                with gr.Row():
                    lam = gr.Textbox(label="Lasso / TV λ",
                                     placeholder="default: Lasso per image (cross-validation / σ√m), TV a fraction of ‖Aᵀy‖∞",
                                     elem_id="lam", min_width=120)
                    seed = gr.Number(0, precision=0, label="seed", elem_id="seed", min_width=120)
                device_choice = gr.Radio(list(DEVICE_CHOICES), value="auto",
                                         label=f"device (auto = {describe_device(device)})", elem_id="device")
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
            form = [asset, upload, domain, operator, m, mask, mask_size, keep, factor, noise, methods,
                    iterations, restarts, lr, lam, csgm_lam, seed, device_choice]
            imaging = [accel, center, lines, kernel, blur_size, sigma, length, angle]  # order of IMAGING_DEFAULTS
            example_box = None
            if rows:
                example_box = gr.Examples(rows, inputs=[*form, *imaging], example_labels=labels,
                                       label="The paper's figures — click, then Run", elem_id="examples")
            gr.Markdown(EXPLANATION, elem_id="explanation")

    outputs = [status, truth, measurements, *recon, convergence, metrics]
    run_event = run_btn.click(kiosk.preempting(reconstruct), [*form, mask_editor, *imaging], outputs,
                              api_name="reconstruct", concurrency_limit=concurrency(), show_progress="hidden")
    run_event.then(compare_choices, None, [compare_method, compare_slider], **HIDDEN)
    export_btn.click(export, None, export_files, api_name="export")
    compare_method.input(compare, [compare_method], [compare_slider], **HIDDEN)
    stop_btn.click(RUNS.request_stop, None, [status], cancels=[run_event], api_name="stop")
    if kiosk.enabled():  # autoplay: an example's row holds the form's values, then the imaging controls'
        def run_example(*row, request: gr.Request = None):
            return reconstruct(*row[:len(form)], None, *row[len(form):], request=request)
        kiosk.attach([*form, *imaging], outputs, run_example, rows, labels, RUNS)

    domain.change(on_domain_change, [domain, m], [gallery, methods, m_marks], **HIDDEN)
    domain.input(on_domain_input, [domain, asset, upload, m], [methods, m, mask_size, asset], **HIDDEN)
    asset.input(on_pick_asset, [asset, domain, m], [domain, upload, methods, m, mask_size], **HIDDEN)
    gallery.select(on_gallery_select, [domain], [asset, upload], **HIDDEN)
    upload.upload(lambda: None, None, [asset], **HIDDEN)
    for trigger in (asset.change, upload.change, domain.change):
        trigger(preview, [asset, upload, domain], [truth], **HIDDEN)
    m_marks.input(lambda v: v, [m_marks], [m], **HIDDEN)
    operator.change(on_operator, [operator], [gaussian_box, inpaint_box, superres_box, fourier_box, blur_box], **HIDDEN)
    kernel.change(on_kernel, [kernel], [sigma, length, angle], **HIDDEN)
    pattern_inputs = [domain, operator, seed, *imaging]
    for control in pattern_inputs:
        control.change(sensor_pattern, pattern_inputs, [pattern], **HIDDEN)
    mask.change(on_mask, [mask], [mask_size, keep, mask_editor], **HIDDEN)
    for trigger in (mask.change, asset.change, upload.change, domain.change):
        trigger(mask_canvas, [mask, asset, upload, domain], [mask_editor], **HIDDEN)
    fields = dict(asset=asset, upload=upload, domain=domain, operator=operator, m=m, mask=mask, mask_size=mask_size,
                  keep=keep, factor=factor, noise=noise, methods=methods, iterations=iterations, restarts=restarts,
                  lr=lr, lam=lam, csgm_lam=csgm_lam, seed=seed, accel=accel, center=center, lines=lines, kernel=kernel,
                  blur_size=blur_size, sigma=sigma, length=length, angle=angle)
    loaded = links.attach(demo, fields, settings_link, domain0, form_defaults)  # the form restored from the URL
    loaded.then(on_domain_change, [domain, m], [gallery, methods, m_marks], **HIDDEN)
    if example_box is not None:  # loading an example restores every input's initial choices: narrow them again
        example_box.load_input_event.then(on_domain_change, [domain, m], [gallery, methods, m_marks], **HIDDEN)
    loaded.then(preview, [asset, upload, domain], [truth], **HIDDEN)
