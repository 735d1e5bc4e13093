"""The figures of docs/sketching.md: ``python -m cs_core sketch figures --out docs/sketching``.

- ``toys.png``: per toy set, the data, the density its sketch encodes, and the generator trained on the sketch;
- ``sizes.png``: the spiral learnt from sketches of increasing size m (too few frequencies: blobs);
- ``mnist.png``: samples of the MNIST priors ``sketch`` and ``vae`` side by side (when their checkpoints exist),
  and their energy distances to the validation digits (``figures.json``).
toys.png uses the defaults of ``sketch fit`` (``FitSettings()``, N = 100,000, m = 1000); sizes.png shorter fits.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from .distance import energy_distance, gaussian_samples
from .fit import FitSettings, fit_sketch, mlp_generator
from .frequencies import draw_frequencies, estimate_sigma
from .sketch import iter_chunks, sketch_density, sketch_stream
from .toys import TOYS, toy_split

TOY_N, TOY_M = 100_000, 1000                  # toys.png: the settings of `sketch fit`'s defaults
SIZES_N, SIZES = 20_000, (10, 30, 100, 1000)   # sizes.png: shorter fits, one per sketch size
SIZES_SETTINGS = FitSettings(steps=1000, batch=500)
GRID = 120


def learn_toy(name: str, n: int, m: int, law: str, settings: FitSettings, seed: int = 0) -> dict:
    """Sketch toy set ``name`` and fit the toy generator to it; data, sketch, final snapshot and distances."""
    train, heldout = toy_split(name, n, 2000, seed)
    g = torch.Generator().manual_seed(seed)
    omega = draw_frequencies(law, m, 2, estimate_sigma(train[:1000]), g)
    sketch = sketch_stream(iter_chunks(train, 10_000), omega)
    model = mlp_generator(10, 2, 64, 4, g)
    snaps = list(fit_sketch(sketch, omega, model, 10, settings, heldout, g, every=None))
    return {"train": train, "heldout": heldout, "omega": omega, "sketch": sketch, "first": snaps[0],
            "final": snaps[-1], "gaussian": energy_distance(gaussian_samples(train, 2000, g), heldout)}


def density_image(result: dict, grid: int = GRID) -> torch.Tensor:
    """The sketch's smoothed density on a grid × grid square [-1, 1]² (rows from y = 1 down)."""
    axis = torch.linspace(-1, 1, grid, dtype=torch.float64)
    yy, xx = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    return sketch_density(result["sketch"], result["omega"], torch.stack([xx, yy], -1).reshape(-1, 2)).reshape(grid, grid)


def _square(ax):
    ax.set_xlim(-1, 1), ax.set_ylim(-1, 1), ax.set_aspect("equal"), ax.set_xticks([]), ax.set_yticks([])


def make_figures(out: Path) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    numbers = {"toys_settings": {"n": TOY_N, "m": TOY_M, "law": "gaussian", **FitSettings().__dict__},
               "sizes_settings": {"n": SIZES_N, "law": "gaussian", **SIZES_SETTINGS.__dict__}}
    fig, axes = plt.subplots(3, 3, figsize=(9, 9))
    for row, name in zip(axes, TOYS):
        r = learn_toy(name, TOY_N, TOY_M, "gaussian", FitSettings())
        row[0].scatter(*r["heldout"].T, s=1, c="k"), row[0].set_ylabel(name)
        row[1].imshow(density_image(r), extent=(-1, 1, -1, 1), cmap="magma")
        row[2].scatter(*r["final"].samples.T, s=1, c="tab:blue")
        for ax in row:
            _square(ax)
        numbers[name] = {"trained": r["final"].distance, "untrained": r["first"].distance, "gaussian": r["gaussian"],
                         "train_seconds": r["final"].seconds}
    for ax, title in zip(axes[0], ("held-out data", f"density the sketch encodes (m = {TOY_M})",
                                   "generator trained on the sketch")):
        ax.set_title(title, fontsize=10)
    fig.tight_layout(), fig.savefig(out / "toys.png", dpi=90), plt.close(fig)

    fig, axes = plt.subplots(1, len(SIZES), figsize=(3 * len(SIZES), 3.2))
    numbers["spiral_sizes"] = {}
    for ax, m in zip(axes, SIZES):
        r = learn_toy("spiral", SIZES_N, m, "gaussian", SIZES_SETTINGS)
        ax.scatter(*r["heldout"].T, s=1, c="0.8"), ax.scatter(*r["final"].samples.T, s=1, c="tab:blue")
        ax.set_title(f"m = {m}: distance {r['final'].distance:.4f}", fontsize=10), _square(ax)
        numbers["spiral_sizes"][m] = r["final"].distance
    fig.tight_layout(), fig.savefig(out / "sizes.png", dpi=90), plt.close(fig)

    _mnist_samples(out / "mnist.png", plt)
    numbers["mnist_val_energy_distance"] = mnist_distances()
    (out / "figures.json").write_text(json.dumps(numbers, indent=2) + "\n")
    return numbers


def mnist_distances(n: int = 500, seed: int = 0) -> dict:
    """Energy distance (pixels) to the 500 validation digits of: n samples of each installed MNIST prior,
    a single Gaussian fitted to the train digits, and n train digits themselves (the floor)."""
    from ..errors import InputError
    from ..priors import PRIORS, mnist_data
    val = mnist_data.load_split("val")[0].flatten(1)
    train = mnist_data.load_split("train")[0].flatten(1)
    g = torch.Generator().manual_seed(seed)
    result = {"train digits (floor)": energy_distance(train[:n], val),
              "single Gaussian fitted to the train digits": energy_distance(gaussian_samples(train, n, g), val)}
    for name in ("sketch", "vae"):
        try:
            G = PRIORS[name].load("cpu")
        except InputError:
            continue
        with torch.no_grad():
            result[f"prior {name}"] = energy_distance(G(torch.randn(n, PRIORS[name].latent_dim, generator=g)), val)
    return result


def _mnist_samples(path: Path, plt):
    from ..errors import InputError
    from ..priors import PRIORS
    panels = []
    for name in ("sketch", "vae"):
        try:
            G = PRIORS[name].load("cpu")
        except InputError:
            continue
        z = torch.randn(64, PRIORS[name].latent_dim, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            panels.append((name, G(z).reshape(8, 8, 28, 28).permute(0, 2, 1, 3).reshape(224, 224)))
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4.3), squeeze=False)
    for ax, (name, grid) in zip(axes[0], panels):
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1), ax.set_title(f"prior {name}: G(z), z ~ N(0, I)"), ax.axis("off")
    fig.tight_layout(), fig.savefig(path, dpi=90), plt.close(fig)
