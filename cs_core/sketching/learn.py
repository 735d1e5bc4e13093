"""Learning a 2-D generator from a sketch, end to end: one declaration (:class:`Recipe`) of what
``python -m cs_core sketch fit`` and the tab "Learn from a sketch" run, and the run itself.

``sketch fit --dataset D --seed S`` with no other flag runs exactly the tab's default: the same split, frequencies,
sketch, generator, latents and baseline, each drawn from its own stream of the seed (so pressing Sketch first, or
not, changes nothing).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Callable, Iterator

import torch

from .distance import energy_distance, gaussian_samples
from .fit import FitSettings, FitSnapshot, check_settings, fit_sketch, mlp_generator
from .frequencies import LAWS, SIGMA_SAMPLE, check_m, draw_frequencies, estimate_sigma
from .sketch import Sketch, iter_chunks, sketch_stream
from .toys import toy_split

CHUNK = 10_000
MAX_M = 20_000          # the tab's and the CLI's limit on m for 2-D sets
WIDE_SCALE = 4.0        # kernel width of the recipe's wide frequencies, in units of σ


@dataclass(frozen=True)
class Recipe:
    """The defaults of ``sketch fit`` and of the tab; CLI flags and the tab's controls are derived from it."""
    n: int = 20_000            # points sketched (toy sets and drawings; a file's rows are what they are)
    heldout: int = 2000        # further points, never sketched, to judge the generator
    m: int = 400               # frequencies: the sketch holds 2m floats
    freq: str = "gaussian"     # frequency law
    wide: float = 0.2          # share of the frequencies drawn at WIDE_SCALE·σ: a long-range pull on stray points
    steps: int = 700           # Adam steps
    batch: int = 400           # generated points per step
    lr: float = 5e-3           # Adam's step, decayed on a cosine to lr/10
    latent: int = 2            # the generator's base noise: as many dimensions as the data
    width: int = 128
    depth: int = 3

    def settings(self) -> FitSettings:
        return check_settings(FitSettings(self.steps, self.batch, self.lr))


DEFAULT = Recipe()
FIELDS = {f.name for f in fields(Recipe)}


@dataclass
class Prepared:
    """The data's split, the frequencies at the data's scale, and the sketch of the train part."""
    train: torch.Tensor      # (n, 2) float64
    heldout: torch.Tensor    # (k, 2)
    omega: torch.Tensor      # (2, m) float64
    sigma: float
    sketch: Sketch
    seconds: float           # time to sketch


def _stream(seed: int, which: int) -> torch.Generator:
    """Independent random streams of one seed: 0 frequencies, 1 generator and latents, 2 the Gaussian baseline."""
    return torch.Generator().manual_seed(int(seed) * 3 + which)


def toy(name: str, recipe: Recipe, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    return toy_split(name, recipe.n, recipe.heldout, seed)


def prepare(train: torch.Tensor, heldout: torch.Tensor, recipe: Recipe, seed: int, sigma: float | None = None,
            sketcher: Callable[[torch.Tensor, torch.Tensor], Sketch] | None = None) -> Prepared:
    """Frequencies from ``recipe.freq``: a share ``recipe.wide`` at width WIDE_SCALE·σ, the rest at σ (estimated
    from the first points unless given), and the sketch of ``train`` (one chunked pass, or ``sketcher(train,
    omega)``, e.g. on a Dask cluster)."""
    check_m(recipe.m, MAX_M)
    if recipe.freq not in LAWS:
        draw_frequencies(recipe.freq, 1, 2, 1.0, _stream(seed, 0))   # raises the InputError naming the laws
    sigma = estimate_sigma(train[:SIGMA_SAMPLE]) if sigma is None else sigma
    g, wide = _stream(seed, 0), round(recipe.wide * recipe.m)
    omega = torch.cat([draw_frequencies(recipe.freq, count, train.shape[1], scale * sigma, g)
                       for count, scale in ((recipe.m - wide, 1.0), (wide, WIDE_SCALE)) if count], 1)
    start = time.perf_counter()
    sketch = sketcher(train, omega) if sketcher else sketch_stream(iter_chunks(train, CHUNK), omega)
    return Prepared(train, heldout, omega, sigma, sketch, time.perf_counter() - start)


def gaussian_distance(prepared: Prepared, seed: int) -> float:
    """Energy distance to the held-out points of a single Gaussian fitted to the train points (the baseline)."""
    g = _stream(seed, 2)
    return energy_distance(gaussian_samples(prepared.train, prepared.heldout.shape[0], g), prepared.heldout)


def learn(prepared: Prepared, recipe: Recipe, seed: int, device: torch.device, every: int | None = None,
          should_stop: Callable[[], bool] = lambda: False) -> Iterator[FitSnapshot]:
    """Train the recipe's generator on the sketch alone (:func:`.fit.fit_sketch`): snapshots at step 0, every
    ``every`` steps and at the end."""
    g = _stream(seed, 1)
    model = mlp_generator(recipe.latent, prepared.train.shape[1], recipe.width, recipe.depth, g).to(device)
    yield from fit_sketch(prepared.sketch, prepared.omega.to(device), model, recipe.latent, recipe.settings(),
                          prepared.heldout, g, every=every, should_stop=should_stop)
