"""Tab "Learn from a sketch": sketch a 2-D toy set once, then train a generator on the sketch alone, live.

All math is ``cs_core.sketching`` (the CLI's ``sketch fit``); this module only draws it.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlencode

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image as _PILImage

from cs_core.errors import InputError
from cs_core.priors import PRIORS
from cs_core.sketching.distance import ENERGY, energy_distance, gaussian_samples
from cs_core.sketching.figures import GRID, density_image
from cs_core.sketching.fit import FitSettings, fit_sketch, mlp_generator
from cs_core.sketching.frequencies import LAWS, check_m, draw_frequencies, estimate_sigma
from cs_core.sketching.sketch import iter_chunks, sketch_stream
from cs_core.sketching.toys import TOYS, toy_split

from .common import HIDDEN, Runs, as_int, max_seconds, user_errors

TITLE = "Learn from a sketch"
ELEM_ID = "sketch-tab"
N_POINTS, HELDOUT, SEED = 20_000, 2000, 0
LATENT, WIDTH, DEPTH = 10, 64, 4
FRAME_EVERY = 25                      # training steps between frames
ROOT = Path(__file__).resolve().parents[1]
FIGURE_DIR = "docs/sketching"
LOSS_X, LOSS_Y = "step", "loss"
# opens the Reconstruct tab with the sketch prior selected beside the VAE and Lasso (ui/links.py reads it)
RECONSTRUCT_LINK = "?" + urlencode({"domain": "mnist", "op": "gaussian", "m": 100,
                                    "methods": "lasso-dct,csgm-vae,csgm-sketch"})
RUNS = Runs()                         # Train's run per browser session, for Stop
INTRO = """Compressive learning (Schellekens & Jacques, [arXiv:2002.05095](https://arxiv.org/abs/2002.05095)):
the whole dataset is read **once** into a sketch z = mean of [cos ωⱼᵀx, sin ωⱼᵀx] at m random frequencies,
then a generator is trained to match the sketch, ‖z − ẑ_θ‖², without ever seeing the data again.
**Sketch** shows the data, the sketch's size and the smoothed density it encodes; **Train** fits the generator
(the distance is the energy distance to held-out points the sketch never saw)."""


def _render(points: torch.Tensor | None, background: torch.Tensor | None = None, image=None) -> np.ndarray:
    """A square picture of [-1, 1]²: a density image and/or grey background points and blue points."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(3.6, 3.6), dpi=80)
    if image is not None:
        ax.imshow(image, extent=(-1, 1, -1, 1), cmap="magma")
    if background is not None:
        ax.scatter(*background.T, s=1, c="0.75")
    if points is not None:
        ax.scatter(*points.T, s=1, c="tab:blue")
    ax.set_xlim(-1, 1), ax.set_ylim(-1, 1), ax.set_aspect("equal"), ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout(pad=0.2)
    fig.canvas.draw()
    picture = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return picture


def make_sketch(dataset: str, m, law: str) -> dict:
    """The toy set's train/held-out split, frequencies and sketch (as ``sketch fit`` computes them)."""
    m = check_m(as_int(m), 20_000)
    train, heldout = toy_split(dataset, N_POINTS, HELDOUT, SEED)
    omega = draw_frequencies(law, m, 2, estimate_sigma(train[:1000]), torch.Generator().manual_seed(SEED))
    start = time.perf_counter()
    sketch = sketch_stream(iter_chunks(train, 5000), omega)
    return {"key": (dataset, m, law), "train": train, "heldout": heldout, "omega": omega, "sketch": sketch,
            "seconds": time.perf_counter() - start}


def _sizes(state: dict) -> str:
    sketch, train = state["sketch"], state["train"]
    return (f"**{train.shape[0]:,} points** ({train.numel() * train.element_size():,} bytes as float64) → "
            f"**sketch of {sketch.values.numel():,} floats** ({sketch.nbytes:,} bytes) in {state['seconds']:.2f} s: "
            f"{train.numel() * train.element_size() / sketch.nbytes:.0f}× smaller, one pass; "
            f"the frequencies are redrawn from the seed.")


@user_errors
def do_sketch(dataset, m, law):
    """Sketch button: the data, the sizes, and the density the sketch encodes."""
    state = make_sketch(dataset, m, law)
    return (state, _render(state["heldout"]), _render(None, image=density_image(state, GRID)), _sizes(state))


@user_errors
def train(dataset, m, law, steps, state, request: gr.Request = None):
    """Train button: stream the generator's samples over the data, the loss curve and the held-out distance."""
    stop = RUNS.start(request).stop
    if not state or state["key"] != (dataset, check_m(as_int(m), 20_000), law):
        state = make_sketch(dataset, m, law)
    settings = FitSettings(steps=as_int(steps), batch=500, lr=3e-3)
    g = torch.Generator().manual_seed(SEED)
    model = mlp_generator(LATENT, 2, WIDTH, DEPTH, g)
    gaussian = energy_distance(gaussian_samples(state["train"], HELDOUT, g), state["heldout"])
    started = time.monotonic()
    deadline = lambda: stop.is_set() or time.monotonic() - started > max_seconds()  # noqa: E731
    first = None
    for snap in fit_sketch(state["sketch"], state["omega"], model, LATENT, settings, state["heldout"], g,
                           every=FRAME_EVERY, should_stop=deadline):
        first = first if first is not None else snap.distance
        word = "running"
        if snap.final:
            word = "stopped" if stop.is_set() else ("time limit reached · stopped"
                                                    if snap.step < settings.steps else "done")
        status = (f"step {snap.step}/{settings.steps} · loss {snap.loss:.5f} · held-out {ENERGY} "
                  f"{snap.distance:.4f} (untrained {first:.4f}, single Gaussian {gaussian:.4f}) · "
                  f"{snap.seconds:.1f} s · {word}")
        curve = pd.DataFrame({LOSS_X: np.arange(1, len(snap.losses) + 1), LOSS_Y: snap.losses})
        yield state, _render(snap.samples, state["heldout"]), curve, status


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
    z = torch.randn(64, PRIORS["sketch"].latent_dim, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        grid = G(z).reshape(8, 8, 28, 28).permute(0, 2, 1, 3).reshape(224, 224)
    return (grid.numpy() * 255).round().astype(np.uint8)


def build(demo: gr.Blocks) -> None:
    gr.Markdown(INTRO)
    state = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            dataset = gr.Radio(list(TOYS), value="spiral", label="Dataset", elem_id="sketch-dataset")
            m = gr.Slider(10, 5000, value=1000, step=10, label="sketch size m (frequencies)", elem_id="sketch-m")
            law = gr.Radio(list(LAWS), value="gaussian", label="frequency law", elem_id="sketch-law")
            steps = gr.Slider(100, 3000, value=1000, step=100, label="training steps", elem_id="sketch-steps")
            with gr.Row():
                sketch_btn = gr.Button("Sketch", elem_id="sketch-btn", min_width=80)
                train_btn = gr.Button("Train", variant="primary", elem_id="sketch-train-btn", min_width=80)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="sketch-stop-btn", min_width=80)
        with gr.Column(scale=3):
            sizes = gr.Markdown("", elem_id="sketch-sizes")
            status = gr.Textbox("ready", label="Status", lines=1, max_lines=2, interactive=False,
                                elem_id="sketch-status")
            with gr.Row():
                data_img = gr.Image(None, label="held-out data", interactive=False, elem_id="sketch-data")
                density_img = gr.Image(None, label="density the sketch encodes", interactive=False,
                                       elem_id="sketch-density")
                samples_img = gr.Image(None, label="generator (blue) over the data", interactive=False,
                                       elem_id="sketch-samples")
            loss_plot = gr.LinePlot(None, x=LOSS_X, y=LOSS_Y, title="sketch loss ‖z − ẑ_θ‖²", height=220,
                                    elem_id="sketch-loss")
    gr.Markdown("**Sketch size vs result** (spiral, precomputed by `python -m cs_core sketch figures`): "
                "too few frequencies give blobs, enough give the shape.")
    gr.Image(_figure("sizes.png"), label="trained results for m = 10, 30, 100, 1000", interactive=False,
             elem_id="sketch-sizes-row")
    gr.Markdown(mnist_caption(), elem_id="sketch-mnist-caption")
    gr.Image(mnist_samples(), label="samples G(z) of the sketch-learnt MNIST prior", interactive=False,
             elem_id="sketch-mnist", height=260)

    sketch_btn.click(do_sketch, [dataset, m, law], [state, data_img, density_img, sizes], api_name="sketch")
    train_btn.click(train, [dataset, m, law, steps, state], [state, samples_img, loss_plot, status],
                    api_name="sketch_train", concurrency_limit=1)
    stop_btn.click(RUNS.stop, None, None, **HIDDEN)
