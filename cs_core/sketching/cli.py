"""``python -m cs_core sketch fit|compute``: sketch a toy set and fit a generator to it, or sketch a ``.npy`` file."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from ..devices import DEVICE_CHOICES, describe_device, resolve_device
from ..errors import InputError
from .dask_sketch import sketch_dask
from .distance import ENERGY, energy_distance, gaussian_samples
from .fit import FitSettings, check_settings, fit_sketch, mlp_generator
from .frequencies import LAWS, SIGMA_SAMPLE, check_m, draw_frequencies, estimate_sigma
from .sketch import check_points, iter_chunks, sketch_stream
from .toys import TOYS, toy_split

DEFAULT_CHUNK = 10_000
HELDOUT = 2000
TOY_LATENT, TOY_WIDTH, TOY_DEPTH = 10, 64, 4


def add_parser(commands):
    sk = commands.add_parser("sketch", help="compressive learning: sketch data once, fit a generator to the sketch")
    sub = sk.add_subparsers(dest="sketch_command", required=True, parser_class=type(sk))

    fit = sub.add_parser("fit", help="sketch a 2-D toy set and train a generator on the sketch alone")
    fit.add_argument("--dataset", required=True, choices=list(TOYS))
    fit.add_argument("--n", type=int, default=100_000, help="points sketched (a further 2,000 are held out)")
    fit.add_argument("--m", type=int, default=1000, help="number of frequencies (the sketch holds 2m floats)")
    fit.add_argument("--freq", default="gaussian", choices=list(LAWS), help="frequency law")
    fit.add_argument("--sigma", type=float, help="kernel scale σ (default: estimated from 1,000 points)")
    fit.add_argument("--steps", type=int, default=FitSettings.steps, help="Adam steps")
    fit.add_argument("--batch", type=int, default=FitSettings.batch, help="generated points per step")
    fit.add_argument("--lr", type=float, default=FitSettings.lr)
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--dask", metavar="ADDRESS", help="sketch on this Dask scheduler (e.g. tcp://host:8786)")
    fit.add_argument("--device", default="auto", choices=list(DEVICE_CHOICES))
    fit.add_argument("--json", action="store_true", help="print one JSON object")

    comp = sub.add_parser("compute", help="sketch a .npy array (points × dimensions) in one chunked pass")
    comp.add_argument("--data", required=True, help="a .npy file of shape (N, d)")
    comp.add_argument("--m", type=int, required=True)
    comp.add_argument("--seed", type=int, default=0)
    comp.add_argument("--freq", default="gaussian", choices=list(LAWS))
    comp.add_argument("--sigma", type=float, help="kernel scale σ (default: estimated from the first 1,000 rows)")
    comp.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="rows read per chunk (or per Dask block)")
    comp.add_argument("--dask", metavar="ADDRESS", help="sketch on this Dask scheduler")
    comp.add_argument("--out", required=True, help="output .npz with arrays sketch, omega, count")

    figs = sub.add_parser("figures", help="draw the figures of docs/sketching.md (a few minutes)")
    figs.add_argument("--out", default="docs/sketching", help="output directory")


def frequencies(law: str, m: int, sample: torch.Tensor, sigma: float | None, seed: int) -> tuple[torch.Tensor, float]:
    check_m(m)
    sigma = estimate_sigma(sample) if sigma is None else sigma
    return draw_frequencies(law, m, sample.shape[1], sigma, torch.Generator().manual_seed(seed)), sigma


def fit(args) -> int:
    device = resolve_device(args.device)
    check_m(args.m)
    settings = check_settings(FitSettings(args.steps, args.batch, args.lr))
    train, heldout = toy_split(args.dataset, args.n, HELDOUT, args.seed)
    omega, sigma = frequencies(args.freq, args.m, train[:SIGMA_SAMPLE], args.sigma, args.seed)
    start = time.perf_counter()
    if args.dask:
        import dask.array as da
        sketch = sketch_dask(da.from_array(train.numpy(), chunks=(DEFAULT_CHUNK, 2)), omega, args.dask)
    else:
        sketch = sketch_stream(iter_chunks(train, DEFAULT_CHUNK), omega)
    sketch_seconds = time.perf_counter() - start
    g = torch.Generator().manual_seed(args.seed)
    model = mlp_generator(TOY_LATENT, 2, TOY_WIDTH, TOY_DEPTH, g).to(device)
    snaps = list(fit_sketch(sketch, omega.to(device), model, TOY_LATENT, settings, heldout, g, every=None))
    gaussian = energy_distance(gaussian_samples(train[:HELDOUT * 10], HELDOUT, g), heldout)
    report = {
        "dataset": args.dataset, "n": args.n, "m": args.m, "freq": args.freq, "sigma": sigma, "seed": args.seed,
        "steps": snaps[-1].step, "device": describe_device(device), "dask": args.dask,
        "sketch": {"floats": sketch.values.numel(), "bytes": sketch.nbytes},
        "data_bytes": train.numel() * train.element_size(),
        "omega_floats": omega.numel(),
        "final_loss": snaps[-1].loss,
        "distance": {"metric": ENERGY, "trained": snaps[-1].distance, "untrained": snaps[0].distance,
                     "gaussian": gaussian},
        "seconds": {"sketch": sketch_seconds, "train": snaps[-1].seconds},
    }
    if args.json:
        print(json.dumps(report))
    else:
        d = report["distance"]
        print(f"{args.dataset}: N = {args.n} points ({report['data_bytes']:,} bytes) → sketch of m = {args.m} "
              f"({sketch.nbytes:,} bytes) in {sketch_seconds:.2f} s; {report['steps']} steps in "
              f"{snaps[-1].seconds:.1f} s, final loss {snaps[-1].loss:.5f}")
        print(f"held-out {ENERGY}: trained {d['trained']:.5f}, untrained {d['untrained']:.5f}, "
              f"single Gaussian {d['gaussian']:.5f}")
    return 0


def load_npy(path: str) -> np.ndarray:
    if not Path(path).is_file():
        raise InputError(f"--data {path}: no such file")
    try:
        data = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise InputError(f"--data {path} is not a .npy array ({exc})") from None
    if not isinstance(data, np.ndarray):
        raise InputError(f"--data {path} must be a single .npy array, not an archive")
    if data.ndim != 2:
        raise InputError(f"the data must be a 2-D array (points × dimensions); got shape {data.shape}")
    if data.shape[0] == 0:
        raise InputError("the data is empty: a sketch needs at least one point")
    return data


def compute(args) -> int:
    data = load_npy(args.data)
    check_m(args.m)
    sample = check_points(np.asarray(data[:SIGMA_SAMPLE]))
    omega, sigma = frequencies(args.freq, args.m, sample, args.sigma, args.seed)
    if args.dask:
        import dask.array as da
        if args.chunk < 1:
            raise InputError(f"the chunk size must be a whole number ≥ 1; got {args.chunk}")
        sketch = sketch_dask(da.from_array(data, chunks=(args.chunk, data.shape[1])), omega, args.dask)
    else:
        sketch = sketch_stream(iter_chunks(data, args.chunk), omega)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, sketch=sketch.values.numpy(), omega=omega.numpy(), count=np.int64(sketch.count),
             sigma=np.float64(sigma), freq=np.str_(args.freq))
    print(f"sketched {sketch.count} points of dimension {data.shape[1]} into {sketch.values.numel()} floats → {out}")
    return 0


def figures(args) -> int:
    from .figures import make_figures
    numbers = make_figures(Path(args.out))
    print(json.dumps(numbers))
    return 0


def run(args) -> int:
    return {"fit": fit, "compute": compute, "figures": figures}[args.sketch_command](args)
