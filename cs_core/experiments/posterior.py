"""``python -m cs_core posterior-check``: are the posterior samplers calibrated, and is their mean as good as CSGM?

For each image x* and m: Gaussian A, y = A x* + σε with σ = ``NOISE``, then ``posterior-<prior>`` and
``csgm-<prior>`` at their defaults. A row per (image, m, method): the MSE of the estimate (the posterior mean,
or CSGM's minimiser) and, for the sampler, ``coverage`` = the fraction of pixel values with |x* − mean| ≤ 2·std
and ``std_mean``. Where x* = G(z*) with z* ~ N(0, I) (source ``inrange``), x* is itself a draw from the
posterior the sampler targets, so a correct sampler covers about 95 % of pixels (exactly 95 % if the pixels'
posterior marginals were Gaussian); on real images (``real``: MNIST's held-out test digits, the gallery's real
photos) the prior is wrong and coverage falls. ``val-inrange`` are the validation draws the sampler's settings
were chosen on (seeds ``VALIDATION_SEED`` + i), never reported. Each image gets its own A and noise
(``--seed`` + its index).
"""
import time
from pathlib import Path

import torch

from ..devices import DEVICE_CHOICES
from ..domains import get_domain
from ..images import save_png
from ..problem import make_problem
from ..session import run_to_end
from ..solvers import Options
from ..solvers.posterior import calibration as posterior_calibration
from ..solvers.posterior import sample_grid, std_image
from ..stats import student_t_interval
from .splits import EVAL_SEED, VALIDATION_SEED, generated, load_images, prior_of
from .table import POSTERIOR_FIELDS, read_rows, write_rows

MS = {"mnist": (25, 100, 400), "faces": (100, 500, 2500)}
NOISE = 0.05
SOURCES = ("inrange", "val-inrange", "real")
EXAMPLE_SAMPLES = 8  # samples shown per example figure


def image_set(domain: str, source: str, count: int):
    if source == "inrange":
        return generated(domain, EVAL_SEED, count)
    if source == "val-inrange":
        return generated(domain, VALIDATION_SEED, count)
    return load_images(domain, "heldout" if domain == "mnist" else "real", count)


def check(domain: str, source: str, ms, count: int, seed: int, device: torch.device, out: Path,
          progress=print, steps: int | None = None, reference: bool = False) -> list[dict]:
    """Measure every image at every m (``steps``: the sampler's MALA steps, default its own; CSGM at its defaults
    either way; ``reference``: also a row ``importance-<prior>`` of :mod:`.posterior_reference`); rewrites
    ``out/<domain>-<source>.csv`` and writes one example figure per m (the first image: truth, posterior mean, std
    map, samples)."""
    prior = prior_of(domain).name
    methods = (f"posterior-{prior}", f"csgm-{prior}")
    images = image_set(domain, source, count)
    rows = []
    for m in ms:
        for index, (name, image) in enumerate(zip(images.names, images.images)):
            problem = make_problem(image[None], get_domain(domain), "gaussian", {"m": m}, NOISE, seed + index, device)
            results = {**run_to_end(problem, [methods[0]], Options(iterations=steps)), **run_to_end(problem, [methods[1]])}
            for method, snap in results.items():
                sampled = "coverage" in snap.extra
                rows.append({"domain": domain, "source": source, "image": name, "m": m, "method": method,
                             "noise": NOISE, "seed": seed + index, "mse": snap.mse[0],
                             "coverage": snap.extra["coverage"][0] if sampled else "",
                             "std_mean": snap.extra["std_mean"][0] if sampled else "", "seconds": snap.seconds})
            progress(f"{source} m={m} {name}: " + ", ".join(f"{r['method']} mse {r['mse']:.5f}" for r in rows[-2:])
                     + f", coverage {rows[-2]['coverage']:.3f}, std {rows[-2]['std_mean']:.4f}")
            if reference:
                row, ref = _reference_row(problem, prior, rows[-1])
                rows.append(row)
                progress(f"  {row['method']}: mse {row['mse']:.5f}, coverage {row['coverage']:.3f}, "
                         f"std {row['std_mean']:.4f}, effective sample size {ref['ess']:.0f}, "
                         f"modes {ref['modes']} of {ref['minima']} local minima")
            if index == 0:
                example(results[methods[0]], image[None], out / f"{domain}-{source}-m{m}.png")
    write_rows(out / f"{domain}-{source}.csv", POSTERIOR_FIELDS, rows)
    return rows


def _reference_row(problem, prior: str, like: dict) -> tuple[dict, dict]:
    """The importance-sampling reference's row for one problem (64 starts of 600 Adam steps), and the reference."""
    from ..priors import PRIORS
    from .posterior_reference import importance_reference
    watch = time.perf_counter()
    generator = PRIORS[prior].load(problem.device)
    ref = importance_reference(generator, problem.operator.matrix.float(), problem.y[0], problem.noise,
                               PRIORS[prior].latent_dim, starts=64, adam_steps=600)
    truth = problem.truth.flatten().to(ref["mean"])
    calibration = posterior_calibration(ref["mean"][None], ref["std"][None], truth[None])
    return {**like, "method": f"importance-{prior}", "mse": float(((ref["mean"] - truth) ** 2).mean()),
            "coverage": calibration["coverage"][0], "std_mean": calibration["std_mean"][0],
            "seconds": time.perf_counter() - watch}, ref


def example(snap, truth: torch.Tensor, path: Path) -> Path:
    """One strip: x*, the posterior mean, the std map (scaled to its maximum), then samples."""
    grey = lambda t: t.expand(-1, truth.shape[1], -1, -1)  # noqa: E731
    panels = torch.cat([truth, snap.estimate, grey(std_image(snap.extra["std"])),
                        snap.extra["samples"][0, :EXAMPLE_SAMPLES]])
    return save_png(sample_grid(panels, columns=len(panels)), path, scale=2 if truth.shape[-1] < 64 else 1)


def _interval(values) -> str:
    mean, half, n = student_t_interval(values)
    return f"{mean:.4g} ± {half:.2g}" if n > 1 else f"{mean:.4g}"


def summary(rows: list[dict]) -> str:
    """A markdown table per (source, m): n; coverage, std_mean, MSE of the mean and of CSGM as mean ± the 95 %
    Student-t half-width over images; how many images the mean beats CSGM on and have coverage ≥ 0.9."""
    lines = ["| source | m | n | coverage (≤ 2 std) | std_mean | MSE posterior mean | MSE CSGM | mean ≤ CSGM | "
             "coverage ≥ 0.9 |", "|---|---|---|---|---|---|---|---|---|"]
    keys = dict.fromkeys((r["source"], int(r["m"])) for r in rows)
    for source, m in keys:
        group = [r for r in rows if r["source"] == source and int(r["m"]) == m]
        post = {r["image"]: r for r in group if r["method"].startswith("posterior-")}
        csgm = {r["image"]: r for r in group if r["method"].startswith("csgm-")}
        names = [n for n in post if n in csgm]
        coverage = [float(post[n]["coverage"]) for n in names]
        wins = sum(float(post[n]["mse"]) <= float(csgm[n]["mse"]) for n in names)
        lines.append(f"| {source} | {m} | {len(names)} | {_interval(coverage)} | "
                     f"{_interval([float(post[n]['std_mean']) for n in names])} | "
                     f"{_interval([float(post[n]['mse']) for n in names])} | "
                     f"{_interval([float(csgm[n]['mse']) for n in names])} | {wins}/{len(names)} | "
                     f"{sum(c >= 0.9 for c in coverage)}/{len(names)} |")
    return "\n".join(lines)


def add_parser(commands):
    p = commands.add_parser("posterior-check", help="calibration of the posterior samplers (coverage, std) and "
                                                    "their mean's error against CSGM, σ = 0.05, Gaussian A")
    p.add_argument("--domain", required=True, choices=list(MS))
    p.add_argument("--source", default="inrange", choices=list(SOURCES),
                   help="inrange G(z*) (reported), val-inrange (validation draws), real (held-out digits / photos)")
    p.add_argument("--images", type=int, default=5, help="images per m (default 5)")
    p.add_argument("--m", help="comma-separated m values (default: 25,100,400 for mnist, 100,500,2500 for faces)")
    p.add_argument("--steps", type=int, help="the sampler's MALA steps (default: the prior's)")
    p.add_argument("--reference", action="store_true",
                   help="also an importance-sampling reference row per image and m (mnist only: latent 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=list(DEVICE_CHOICES))
    p.add_argument("--out", required=True, help="directory: <domain>-<source>.csv (rewritten), example PNGs")


def command(args) -> int:
    from ..arguments import parse_list
    from ..devices import resolve_device
    from ..errors import InputError
    ms = parse_list(args.m, int, "--m") if args.m else list(MS[args.domain])
    if args.images < 1:
        raise InputError(f"--images must be at least 1; got {args.images}")
    if args.reference and args.domain != "mnist":
        raise InputError("--reference needs --domain mnist (importance sampling is reliable in 20 latent dimensions, "
                         "not the faces' 100)")
    out = Path(args.out)
    check(args.domain, args.source, ms, args.images, args.seed, resolve_device(args.device), out,
          progress=lambda line: print(line, flush=True), steps=args.steps, reference=args.reference)
    print(summary(read_rows(out / f"{args.domain}-{args.source}.csv")))
    return 0
