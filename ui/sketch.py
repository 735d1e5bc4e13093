"""Tab "Learn from a sketch": sketch a 2-D toy set once, then train a generator on the sketch alone, live.

All math is ``cs_core.sketching`` (the CLI's ``sketch fit``); this module only draws it.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image as _PILImage

from cs_core.devices import resolve_device
from cs_core.errors import InputError
from cs_core.priors import PRIORS
from cs_core.sketching.distance import ENERGY
from cs_core.sketching.figures import GRID, density_image
from cs_core.sketching.frequencies import LAWS
from cs_core.sketching.learn import DEFAULT, Recipe, gaussian_distance, learn, prepare, toy
from cs_core.sketching.points import MAX_FILE_BYTES, load_points, normalise, split, stroke_points
from cs_core.sketching.toys import TOYS
from cs_core.tab_settings import SKETCH, checked, row

from . import kiosk
from .common import HIDDEN, Runs, in_background, max_seconds, raw, slider, user_errors

TITLE = "Learn from a sketch"
ELEM_ID = "sketch-tab"
SOURCES = list(row(SKETCH, "dataset").choices)  # the toy sets, a drawing, a file
DRAWING, FILE = SOURCES[-2:]
FRAMES = 15                           # frames of a training run (each measures the held-out distance, ~0.1 s)
SIDE = 288                            # pixels of the square pictures of [-1, 1]²
CURVE_POINTS = 300                    # the loss curve is thinned to about this many points
ROOT = Path(__file__).resolve().parents[1]
FIGURE_DIR = "docs/sketching"
CURVE_X, CURVE_Y, CURVE_COLOR = "step", "log₁₀", "series"
# opens the Reconstruct tab with the sketch prior selected beside the VAE and Lasso (ui/links.py reads it)
RECONSTRUCT_LINK = "?" + urlencode({"domain": "mnist", "op": "gaussian", "m": 100,
                                    "methods": "lasso-dct,csgm-vae,csgm-sketch"})
RUNS = Runs()                         # Train's run per browser session, for Stop
INTRO = f"""Compressive learning (Schellekens & Jacques, [arXiv:2002.05095](https://arxiv.org/abs/2002.05095)):
the whole dataset is read **once** into a sketch z = mean of [cos ωⱼᵀx, sin ωⱼᵀx] at m random frequencies,
then a generator is trained to match the sketch, ‖z − ẑ_θ‖², without ever seeing the data again.
**Sketch** shows the data, the sketch's size and the smoothed density it encodes; **Train** fits the generator
(the distance is the energy distance to held-out points the sketch never saw). Choose a toy set, **draw your own**
shape, or upload a .npy/.csv of 2-D points. The same run from the command line:
`python -m cs_core sketch fit --dataset spiral --seed 0 --json` (or `--data points.npy`)."""
BLUE, GREY = np.array([31, 119, 180], np.uint8), np.array([190, 190, 190], np.uint8)


def _scatter(picture: np.ndarray, points: torch.Tensor, color: np.ndarray) -> np.ndarray:
    """Points of [-1, 1]² as 2×2-pixel dots on a SIDE × SIDE picture (y up)."""
    xy = points.double().numpy()
    col = np.clip(((xy[:, 0] + 1) / 2 * (SIDE - 2)).round().astype(int), 0, SIDE - 2)
    row = np.clip(((1 - xy[:, 1]) / 2 * (SIDE - 2)).round().astype(int), 0, SIDE - 2)
    for dr in (0, 1):
        for dc in (0, 1):
            picture[row + dr, col + dc] = color
    return picture


def _blank() -> np.ndarray:
    return np.full((SIDE, SIDE, 3), 255, np.uint8)


def _density(values: torch.Tensor) -> np.ndarray:
    """The sketch's density (GRID × GRID, rows from y = 1 down) in the magma colour map, SIDE × SIDE."""
    import matplotlib
    v = values.double().numpy()
    v = (v - v.min()) / max(float(v.max() - v.min()), 1e-12)
    rgb = (matplotlib.colormaps["magma"](v)[..., :3] * 255).astype(np.uint8)
    index = np.arange(SIDE) * GRID // SIDE
    return rgb[index][:, index]


def drawing_mask(drawing) -> np.ndarray:
    """The painted pixels (H, W) of the canvas's value: any layer's opaque pixels, or where the composite differs
    from the background."""
    if not drawing:
        raise InputError("the drawing is empty: draw a shape on the canvas first")
    layers = [np.asarray(x) for x in drawing.get("layers") or [] if x is not None]
    if layers:
        return np.any([x[..., 3] > 0 if x.ndim == 3 and x.shape[2] == 4 else x.any(-1) for x in layers], axis=0)
    composite, background = drawing.get("composite"), drawing.get("background")
    if composite is None:
        raise InputError("the drawing is empty: draw a shape on the canvas first")
    composite = np.asarray(composite)
    if background is None:
        return composite[..., 3] > 0 if composite.shape[-1] == 4 else (composite < 250).any(-1)
    return (composite != np.asarray(background)).any(-1)


def _upload_path(upload) -> str:
    if upload is None:
        raise InputError(f"no file: upload a .npy or .csv of 2-D points (at most {MAX_FILE_BYTES // 2**20} MB)")
    return upload if isinstance(upload, str) else getattr(upload, "name", str(upload))


def _settings(dataset, m, law, steps, seed):
    """The tab's settings, each through its row of ``cs_core.tab_settings.SKETCH``."""
    return checked(SKETCH, dataset=dataset, m=m, law=law, steps=steps, seed=seed)


def _recipe(s) -> Recipe:
    return replace(DEFAULT, m=s.m, freq=s.law, steps=s.steps)


def make_sketch(dataset: str, m, law: str, seed, drawing=None, upload=None, steps=DEFAULT.steps) -> dict:
    """The data's train/held-out split, frequencies and sketch, as ``sketch fit`` computes them."""
    s = _settings(dataset, m, law, steps, seed)
    recipe, seed = _recipe(s), s.seed
    if dataset in TOYS:
        train, heldout = toy(dataset, recipe, seed)
        source = dataset
    elif dataset == DRAWING:
        mask = drawing_mask(drawing)
        points = stroke_points(mask, recipe.n + recipe.heldout, seed)
        train, heldout = points[:recipe.n], points[recipe.n:]
        source = hashlib.sha1(np.packbits(mask).tobytes()).hexdigest()
    else:  # FILE (the row allows nothing else)
        path = _upload_path(upload)
        train, heldout = split(normalise(load_points(path, "the file")), recipe.heldout, seed)
        source = path
    prepared = prepare(train, heldout, recipe, seed)
    return {"key": (dataset, source, recipe.m, recipe.freq, seed), "prepared": prepared,
            "gaussian": gaussian_distance(prepared, seed),
            # for figures.density_image
            "sketch": prepared.sketch, "omega": prepared.omega}


def _sizes(state: dict) -> str:
    p = state["prepared"]
    sketch, train = p.sketch, p.train
    return (f"**{train.shape[0]:,} points** ({train.numel() * train.element_size():,} bytes as float64) → "
            f"**sketch of {sketch.values.numel():,} floats** ({sketch.nbytes:,} bytes) in {p.seconds:.2f} s: "
            f"{train.numel() * train.element_size() / sketch.nbytes:.0f}× smaller, one pass; "
            f"{p.heldout.shape[0]:,} points held out; σ = {p.sigma:.3f}.")


@user_errors
def do_sketch(dataset, m, law, seed, drawing=None, upload=None):
    """Sketch button: the data, the sizes, and the density the sketch encodes."""
    state = make_sketch(dataset, m, law, seed, drawing, upload)
    heldout = state["prepared"].heldout
    return (state, _scatter(_blank(), heldout, np.zeros(3, np.uint8)), _density(density_image(state, GRID)),
            _sizes(state))


def _curve(losses: list[float], distances: list[tuple[int, float]], untrained: float, gaussian: float,
           steps: int) -> pd.DataFrame:
    """log₁₀ of the loss (thinned), of the held-out distance, and the two baselines as flat lines."""
    every = max(1, len(losses) // CURVE_POINTS)
    x = np.arange(1, len(losses) + 1)[::every]
    parts = [pd.DataFrame({CURVE_X: x, CURVE_Y: np.log10(np.maximum(losses[::every], 1e-12)),
                           CURVE_COLOR: "sketch loss ‖z − ẑ_θ‖²"}),
             pd.DataFrame({CURVE_X: [s for s, _ in distances], CURVE_Y: [np.log10(max(d, 1e-12)) for _, d in distances],
                           CURVE_COLOR: f"held-out {ENERGY}"})]
    for name, value in (("untrained generator", untrained), ("single Gaussian", gaussian)):
        parts.append(pd.DataFrame({CURVE_X: [0, steps], CURVE_Y: [np.log10(max(value, 1e-12))] * 2,
                                   CURVE_COLOR: f"{name} ({ENERGY})"}))
    return pd.concat(parts, ignore_index=True)


def _training(state, s, drawing, upload, should_stop):
    """The sketch (``state``'s, when it is of the same toy set and settings), then the training's snapshots."""
    recipe = _recipe(s)
    if not state or state["key"][0] != s.dataset or state["key"][2:] != (recipe.m, recipe.freq, s.seed) \
            or s.dataset in (DRAWING, FILE):
        state = make_sketch(s.dataset, s.m, s.law, s.seed, drawing, upload, s.steps)
    yield state
    yield from learn(state["prepared"], recipe, s.seed, resolve_device("auto"), every=-(-recipe.steps // FRAMES),
                     should_stop=should_stop)


@user_errors
def train(dataset, m, law, steps, seed, state, drawing=None, upload=None, request: gr.Request = None):
    """Train button: stream the generator's samples over the data, the loss and held-out distance curves
    against both baselines (``sketch fit`` with the same settings gives the same numbers)."""
    stop, started = RUNS.start(request).stop, time.monotonic()
    s = _settings(dataset, m, law, steps, seed)
    recipe = _recipe(s)
    deadline = lambda: stop.is_set() or time.monotonic() - started > max_seconds()  # noqa: E731
    distances, first, status = [], None, None
    for snap in in_background(_training(state, s, drawing, upload, deadline), stop):
        if snap is None and stop.is_set():  # Stop: said at once (the core's last step is not waited for)
            yield gr.skip(), gr.skip(), gr.skip(), f"{status.rsplit(' · ', 1)[0] if status else 'sketch'} · stopped"
            return
        if snap is None:  # sketching or between frames: the same status again, a yield where a cancel can land
            yield gr.skip(), gr.skip(), gr.skip(), status or "sketching · running"
            continue
        if isinstance(snap, dict):  # the sketch
            state = snap
            gaussian = state["gaussian"]
            background = _scatter(_blank(), state["prepared"].heldout, GREY)
            continue
        first = first if first is not None else snap.distance
        distances.append((snap.step, snap.distance))
        word = "running"
        if snap.final:
            word = "stopped" if stop.is_set() else ("time limit reached · stopped"
                                                    if snap.step < recipe.steps else "done")
        status = (f"step {snap.step}/{recipe.steps} · loss {snap.loss:.5f} · held-out {ENERGY} "
                  f"{snap.distance:.4f} (untrained {first:.4f}, single Gaussian {gaussian:.4f}) · "
                  f"{snap.seconds:.1f} s · {word}")
        curve = _curve(snap.losses, distances, first, gaussian, recipe.steps)
        yield state, _scatter(background.copy(), snap.samples, BLUE), curve, status


def _figure(name: str):
    """A figure drawn by ``python -m cs_core sketch figures`` (None until it is drawn)."""
    path = ROOT / FIGURE_DIR / name
    return np.asarray(_PILImage.open(path).convert("RGB")) if path.exists() else None


def mnist_caption() -> str:
    from cs_core.priors.sketch_mnist import METADATA
    if not METADATA.is_file():
        return "**MNIST from a sketch**: the prior `sketch` is not installed (`python -m cs_core.train sketch-mnist`)."
    meta = json.loads(METADATA.read_text())
    return (f"**MNIST from a sketch**: the prior `sketch` was trained on a sketch of {meta['sketch']['floats']:,} "
            f"numbers ({meta['sketch']['bytes']:,} bytes) summarising the 4,000 train digits "
            f"({meta['data_bytes_float32']:,} bytes). [Reconstruct a held-out digit with it, beside the VAE and "
            f"Lasso (m = 100)]({RECONSTRUCT_LINK}) — it is **CSGM (SKETCH)** in the Reconstruct tab.")


def mnist_samples() -> np.ndarray | None:
    """64 samples G(z) of the MNIST prior learnt from a sketch (None when its checkpoint is missing)."""
    try:
        G = PRIORS["sketch"].load("cpu")
    except InputError:
        return None
    z = torch.randn(64, PRIORS["sketch"].latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        grid = G(z).reshape(8, 8, 28, 28).permute(0, 2, 1, 3).reshape(224, 224)
    return (grid.numpy() * 255).round().astype(np.uint8)


def build(demo: gr.Blocks) -> None:
    gr.Markdown(INTRO)
    state = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            dataset = gr.Radio(SOURCES, value="spiral", label="Dataset", elem_id="sketch-dataset")
            m = slider(row(SKETCH, "m"), 10, label="sketch size m (frequencies)", elem_id="sketch-m")
            law = gr.Radio(list(LAWS), value=DEFAULT.freq, label="frequency law", elem_id="sketch-law")
            steps = slider(row(SKETCH, "steps"), 100, label="training steps",
                              elem_id="sketch-steps")
            seed = gr.Number(0, precision=0, minimum=0, maximum=row(SKETCH, "seed").high, label="seed",
                             elem_id="sketch-seed")
            with gr.Row():
                sketch_btn = gr.Button("Sketch", elem_id="sketch-btn", min_width=80)
                train_btn = gr.Button("Train", variant="primary", elem_id="sketch-train-btn", min_width=80)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="sketch-stop-btn", min_width=80)
            with gr.Accordion("Your own data: draw a shape, or upload points", open=True):
                drawing = gr.Sketchpad(type="numpy", image_mode="RGBA", canvas_size=(320, 320), label="draw here",
                                       elem_id="sketch-canvas", brush=gr.Brush(default_size=6, colors=["#000000"],
                                                                              color_mode="fixed"))
                upload = gr.File(file_types=[".npy", ".csv"], file_count="single", type="filepath",
                                 label=f"or a .npy / .csv of 2-D points (≤ {MAX_FILE_BYTES // 2**20} MB)",
                                 elem_id="sketch-upload")
        with gr.Column(scale=3):
            sizes = gr.Markdown("", elem_id="sketch-sizes")
            status = gr.Textbox("ready", label="Status", lines=1, max_lines=2, interactive=False,
                                elem_id="sketch-status")
            with gr.Row():
                picture = dict(type="numpy", format="png", interactive=False, buttons=["fullscreen"])
                data_img = gr.Image(None, label="held-out data", elem_id="sketch-data", **picture)
                density_img = gr.Image(None, label="density the sketch encodes", elem_id="sketch-density", **picture)
                samples_img = gr.Image(None, label="generator (blue) over the data", elem_id="sketch-samples",
                                       **picture)
            loss_plot = gr.LinePlot(None, x=CURVE_X, y=CURVE_Y, color=CURVE_COLOR, height=260, elem_id="sketch-loss",
                                    title="log₁₀ of the sketch loss and of the held-out distance, with both baselines",
                                    x_title="training step", y_title="log₁₀")
    gr.Markdown("**Sketch size vs result** (spiral, precomputed by `python -m cs_core sketch figures`): "
                "too few frequencies give blobs, enough give the shape.")
    gr.Image(_figure("sizes.png"), label="trained results for m = 10, 30, 100, 1000", interactive=False,
             elem_id="sketch-sizes-row")
    gr.Markdown(mnist_caption(), elem_id="sketch-mnist-caption")
    gr.Image(mnist_samples(), label="samples G(z) of the sketch-learnt MNIST prior", interactive=False,
             elem_id="sketch-mnist", height=260)

    raw(dataset, law, seed)  # checked by the rows of cs_core.tab_settings
    sketch_btn.click(do_sketch, [dataset, m, law, seed, drawing, upload], [state, data_img, density_img, sizes],
                     api_name="sketch")
    # a visitor's training pre-empts kiosk autoplay, as Reconstruct's runs do
    train_btn.click(kiosk.preempting(train), [dataset, m, law, steps, seed, state, drawing, upload],
                    [state, samples_img, loss_plot, status], api_name="sketch_train", concurrency_limit=1)
    drawing.input(lambda: DRAWING, None, dataset, **HIDDEN)       # drawing or uploading selects that data
    upload.upload(lambda: FILE, None, dataset, **HIDDEN)
    stop_btn.click(RUNS.stop, None, None, api_name="sketch_stop", show_progress="hidden")
