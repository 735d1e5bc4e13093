"""``python -m cs_core sketch fit|compute``: sketch a toy set and fit a generator to it, or sketch a ``.npy`` file."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..devices import DEVICE_CHOICES, describe_device, resolve_device
from ..errors import InputError
from .dask_sketch import sketch_dask
from .distance import ENERGY
from .frequencies import LAWS, SIGMA_SAMPLE, check_m, draw_frequencies, estimate_sigma
from .learn import DEFAULT, Recipe, gaussian_distance, learn, prepare, toy
from .points import MAX_FILE_BYTES, MAX_ROWS, MIN_POINTS, load_points, normalise, split
from .sketch import check_points, iter_chunks, sketch_stream
from .toys import TOYS

DEFAULT_CHUNK = 10_000


def add_parser(commands):
    sk = commands.add_parser("sketch", help="compressive learning: sketch data once, fit a generator to the sketch")
    sub = sk.add_subparsers(dest="sketch_command", required=True, parser_class=type(sk))

    fit = sub.add_parser("fit", help="sketch 2-D points (a toy set or your file) and train a generator on the "
                                     "sketch alone; the defaults are the app's tab")
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", choices=list(TOYS), help="a toy set")
    source.add_argument("--data", metavar="FILE", help=f"your 2-D points: a .npy array or .csv of 2 columns, "
                        f"{MIN_POINTS} to {MAX_ROWS:,} rows, at most {MAX_FILE_BYTES // 2**20} MB, scaled into the "
                        f"unit ball; a fifth (at most {DEFAULT.heldout:,}) is held out")
    fit.add_argument("--n", type=int, default=DEFAULT.n,
                     help=f"toy points sketched (default {DEFAULT.n:,}; a further {DEFAULT.heldout:,} are held out)")
    fit.add_argument("--m", type=int, default=DEFAULT.m, help=f"number of frequencies (the sketch holds 2m floats; "
                                                              f"default {DEFAULT.m})")
    fit.add_argument("--freq", default=DEFAULT.freq, choices=list(LAWS), help=f"frequency law (default {DEFAULT.freq})")
    fit.add_argument("--sigma", type=float, help="kernel scale σ (default: estimated from 1,000 points)")
    fit.add_argument("--steps", type=int, default=DEFAULT.steps, help=f"Adam steps (default {DEFAULT.steps})")
    fit.add_argument("--batch", type=int, default=DEFAULT.batch,
                     help=f"generated points per step (default {DEFAULT.batch})")
    fit.add_argument("--lr", type=float, default=DEFAULT.lr, help=f"Adam's step, cosine-decayed to a tenth "
                                                                  f"(default {DEFAULT.lr:g})")
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


def fit(args) -> int:
    device = resolve_device(args.device)
    recipe = Recipe(**{**DEFAULT.__dict__, "n": args.n, "m": args.m, "freq": args.freq, "steps": args.steps,
                       "batch": args.batch, "lr": args.lr})
    recipe.settings()
    if args.data:
        train, heldout = split(normalise(load_points(args.data)), recipe.heldout, args.seed)
    else:
        train, heldout = toy(args.dataset, recipe, args.seed)
    sketcher = None
    if args.dask:
        import dask.array as da

        def sketcher(points, omega):
            return sketch_dask(da.from_array(points.numpy(), chunks=(DEFAULT_CHUNK, 2)), omega, args.dask)
    prepared = prepare(train, heldout, recipe, args.seed, args.sigma, sketcher)
    sketch = prepared.sketch
    snaps = list(learn(prepared, recipe, args.seed, device))
    gaussian = gaussian_distance(prepared, args.seed)
    report = {
        "dataset": args.dataset, "data": args.data, "n": train.shape[0], "heldout": heldout.shape[0], "m": args.m,
        "freq": args.freq, "sigma": prepared.sigma, "seed": args.seed, "steps": snaps[-1].step,
        "batch": recipe.batch, "lr": recipe.lr, "latent": recipe.latent, "wide": recipe.wide,
        "device": describe_device(device), "dask": args.dask,
        "sketch": {"floats": sketch.values.numel(), "bytes": sketch.nbytes},
        "data_bytes": train.numel() * train.element_size(),
        "omega_floats": prepared.omega.numel(),
        "final_loss": snaps[-1].loss,
        "distance": {"metric": ENERGY, "trained": snaps[-1].distance, "untrained": snaps[0].distance,
                     "gaussian": gaussian},
        "seconds": {"sketch": prepared.seconds, "train": snaps[-1].seconds},
    }
    if args.json:
        print(json.dumps(report))
    else:
        d = report["distance"]
        print(f"{args.dataset or args.data}: N = {report['n']} points ({report['data_bytes']:,} bytes) → sketch of "
              f"m = {args.m} ({sketch.nbytes:,} bytes) in {prepared.seconds:.2f} s; {report['steps']} steps in "
              f"{snaps[-1].seconds:.1f} s, final loss {snaps[-1].loss:.5f}")
        print(f"held-out {ENERGY}: trained {d['trained']:.5f}, untrained {d['untrained']:.5f}, "
              f"single Gaussian {d['gaussian']:.5f}")
    return 0


def frequencies(law: str, m: int, sample: torch.Tensor, sigma: float | None, seed: int) -> tuple[torch.Tensor, float]:
    check_m(m)
    sigma = estimate_sigma(sample) if sigma is None else sigma
    return draw_frequencies(law, m, sample.shape[1], sigma, torch.Generator().manual_seed(seed)), sigma


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
