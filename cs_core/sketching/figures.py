"""The figures of docs/sketching.md: ``python -m cs_core sketch figures --out docs/sketching``.

- ``toys.png``: per toy set, the data, the density its sketch encodes, and the generator trained on the sketch;
- ``sizes.png``: the spiral learnt from sketches of increasing size m (too few frequencies: blobs);
- ``mnist.png``: samples of the MNIST priors ``sketch`` and ``vae`` side by side (when their checkpoints exist),
  and their energy distances to the validation digits (``figures.json``).
toys.png uses the defaults of ``sketch fit`` and of the tab (:data:`.learn.DEFAULT`); sizes.png the same with m varied.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from dataclasses import replace

from .distance import energy_distance, gaussian_samples
from .learn import DEFAULT, Recipe, gaussian_distance, learn, prepare, toy
from .sketch import sketch_density
from .toys import TOYS

SIZES = (10, 30, 100, 1000)   # sizes.png: the spiral at the defaults but these sketch sizes
GRID = 120


def learn_toy(name: str, recipe: Recipe = DEFAULT, seed: int = 0) -> dict:
    """``sketch fit --dataset name --seed seed``: data, sketch, first and final snapshots and the Gaussian baseline."""
    train, heldout = toy(name, recipe, seed)
    prepared = prepare(train, heldout, recipe, seed)
    snaps = list(learn(prepared, recipe, seed, torch.device("cpu")))
    return {"train": train, "heldout": heldout, "omega": prepared.omega, "sketch": prepared.sketch,
            "first": snaps[0], "final": snaps[-1], "gaussian": gaussian_distance(prepared, seed)}


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
    numbers = {"settings": DEFAULT.__dict__}
    fig, axes = plt.subplots(3, 3, figsize=(9, 9))
    for row, name in zip(axes, TOYS):
        r = learn_toy(name)
        row[0].scatter(*r["heldout"].T, s=1, c="k"), row[0].set_ylabel(name)
        row[1].imshow(density_image(r), extent=(-1, 1, -1, 1), cmap="magma")
        row[2].scatter(*r["final"].samples.T, s=1, c="tab:blue")
        for ax in row:
            _square(ax)
        numbers[name] = {"trained": r["final"].distance, "untrained": r["first"].distance, "gaussian": r["gaussian"],
                         "train_seconds": r["final"].seconds}
    for ax, title in zip(axes[0], ("held-out data", f"density the sketch encodes (m = {DEFAULT.m})",
                                   "generator trained on the sketch")):
        ax.set_title(title, fontsize=10)
    fig.tight_layout(), fig.savefig(out / "toys.png", dpi=90), plt.close(fig)

    fig, axes = plt.subplots(1, len(SIZES), figsize=(3 * len(SIZES), 3.2))
    numbers["spiral_sizes"] = {}
    for ax, m in zip(axes, SIZES):
        r = learn_toy("spiral", replace(DEFAULT, m=m))
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
