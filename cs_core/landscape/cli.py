"""``python -m cs_core landscape rho|descend|phase|heatmap|slice``: the landscape from the command line.

Bad input raises :class:`~cs_core.errors.InputError` (one ``error:`` line, exit 2); layers that
are not expansive only print ``warning: ...`` lines to stderr.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..arguments import parse_list
from ..devices import DEVICE_CHOICES, describe_device, resolve_device
from ..errors import InputError
from .descent import DEFAULT_LR, METHODS, check_method, descend
from .network import check_widths
from .phase import phase_transition
from .rho import rho
from .figures import landscape_figure, phase_figure
from .scene import MAX_STARTS, descent_problem, heat_map, slice_map, slice_problem


def _ints(text: str, what: str) -> list[int]:
    return parse_list(text, int, what, "20,100,500", nonempty=True)


def _net_arguments(p, m_help: str, k_type=int):
    p.add_argument("--k", type=k_type, default=2, help="latent dimension (default 2)")
    p.add_argument("--widths", default="50,500", help="layer widths n_1,...,n_d (default 50,500)")
    p.add_argument("--m", default="200", help=m_help)
    p.add_argument("--noise", type=float, default=0.0, help="σ of Gaussian noise on each measurement (‖G(z*)‖ = 1)")
    p.add_argument("--steps", type=int, default=300, help="descent steps (default 300)")
    p.add_argument("--lr", type=float, help=f"step: GD/negation in units of 2^d (default {DEFAULT_LR['gd']}), "
                                            f"Adam's learning rate (default {DEFAULT_LR['adam']})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=list(DEVICE_CHOICES))


def add_parser(commands):
    landscape = commands.add_parser("landscape", help="the Hand–Voroninski landscape of random ReLU priors")
    sub = landscape.add_subparsers(dest="landscape_command", required=True, parser_class=type(landscape))

    p = sub.add_parser("rho", help="ρ_d: the spurious basin sits near −ρ_d z*")
    p.add_argument("--depth", type=int, required=True)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("descend", help="descend from many random starts; where do they end?")
    _net_arguments(p, "number of measurements (default 200)")
    p.add_argument("--starts", type=int, default=64, help=f"random starts (default 64, at most {MAX_STARTS})")
    p.add_argument("--method", default="gd", help="gd, adam or negation (GD + negation check)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("phase", help="success rate vs m for plain GD and the negation scheme")
    _net_arguments(p, "comma-separated m values, e.g. 5,10,20,40", k_type=str)
    p.add_argument("--m-per-k", help="instead of --m: comma-separated ratios m/k, e.g. 1,2,4,8 (for the m ∝ k scaling)")
    p.add_argument("--trials", type=int, default=20, help="independent problems per m (default 20)")
    p.add_argument("--out", help="also write the plot to this PNG")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("heatmap", help="PNG: log f over the latent plane (k = 2) with the descent paths")
    _net_arguments(p, "number of measurements (default 200)")
    p.add_argument("--starts", type=int, default=32)
    p.add_argument("--method", default="gd", help="gd, adam or negation")
    p.add_argument("--grid", type=int, default=200, help="grid points per side (default 200)")
    p.add_argument("--out", required=True, help="output PNG")

    p = sub.add_parser("slice", help="PNG: log f on the plane through z*, −z*, 0 of a trained prior, with CSGM's restarts")
    p.add_argument("--prior", default="vae", help="vae or dcgan")
    p.add_argument("--m", type=int, default=200)
    p.add_argument("--noise", type=float, default=0.0)
    p.add_argument("--restarts", type=int, default=8, help="CSGM restarts drawn (Adam at the paper's learning rate for the prior)")
    p.add_argument("--steps", type=int, help="Adam steps (default: the prior's CSGM default)")
    p.add_argument("--grid", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=list(DEVICE_CHOICES))
    p.add_argument("--out", required=True, help="output PNG")


def _problem(args):
    """The problem of ``descend`` and ``heatmap``: (risk, starts, widths, device); warnings go to stderr."""
    widths = _ints(args.widths, "--widths")
    device = resolve_device(args.device)
    risk, z0, warnings = descent_problem(args.k, widths, _single_m(args.m), args.noise, args.seed, args.starts, device)
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    return risk, z0, widths, device


def _single_m(text: str) -> int:
    ms = _ints(text, "--m")
    if len(ms) != 1:
        raise InputError(f"--m takes one value here; got {text!r}")
    return ms[0]


def _rho(args) -> int:
    value = rho(args.depth)
    print(json.dumps({"depth": args.depth, "rho": value}) if args.json else f"ρ_{args.depth} = {value:.6f}")
    return 0


def _descend(args) -> int:
    method = check_method(args.method)
    risk, z0, widths, device = _problem(args)
    final = [s for s in descend(risk, z0, method, args.steps, args.lr) if s.final][0]
    z = final.z[0]
    cosine, ratio = risk.cosine(final.z.to(device))[0].cpu(), risk.norm_ratio(final.z.to(device))[0].cpu()
    reached = risk.reached(final.z.to(device))[0].cpu()
    failed = ~reached
    report = {
        "k": args.k, "widths": widths, "m": risk.A.shape[1], "noise": risk.noise, "method": method,
        "steps": final.iteration, "lr": DEFAULT_LR[method] if args.lr is None else args.lr, "seed": args.seed,
        "depth": len(widths), "rho": rho(len(widths)), "z_star": risk.z_star[0].tolist(),
        "device": describe_device(device), "seconds": final.seconds, "message": final.message,
        "starts": [{"z": z[s].tolist(), "cosine": float(cosine[s]), "norm_ratio": float(ratio[s]),
                    "reached": bool(reached[s])} for s in range(z.shape[0])],
        "summary": {
            "fraction_reached": float(reached.float().mean()),
            "failed_cosine": float(cosine[failed].mean()) if failed.any() else None,
            "failed_norm_ratio": float(ratio[failed].mean()) if failed.any() else None,
        },
    }
    if args.json:
        print(json.dumps(report))
    else:
        s = report["summary"]
        print(f"{METHODS[method]}: {int(reached.sum())} of {len(reached)} starts reached z* "
              f"(k = {args.k}, widths {widths}, m = {report['m']}, {report['steps']} steps, {final.seconds:.1f} s)")
        if failed.any():
            print(f"the others ended at mean cos∠(z, z*) = {s['failed_cosine']:.3f}, mean ‖z‖/‖z*‖ = "
                  f"{s['failed_norm_ratio']:.3f} (theory: −1 and ρ_{len(widths)} = {report['rho']:.3f})")
        if final.message:
            print(final.message)
    return 0


def _phase(args) -> int:
    """One phase transition per k (``--k`` may be a list, e.g. 5,10,20, to see m ∝ k)."""
    ks = _ints(str(args.k), "--k")
    widths = _ints(args.widths, "--widths")
    ratios = _ints(args.m_per_k, "--m-per-k") if args.m_per_k else None
    for k in ks:
        for line in check_widths(k, widths):
            print(f"warning: {line}", file=sys.stderr)
    device = resolve_device(args.device)
    rows = []
    for k in ks:
        ms = [r * k for r in ratios] if ratios else _ints(args.m, "--m")
        points = phase_transition(k, widths, ms, args.trials, args.steps, args.seed, device, args.noise, args.lr)
        for point in tqdm(points, total=len(ms), desc=f"phase transition k = {k}", unit="m", disable=None,
                          file=sys.stderr):
            rows.append({"k": k, "m": point.m, "success": point.success, "successes": point.successes,
                         "wilson95": point.interval, "seconds": point.seconds})
    if args.out:
        k_text = f"k = {ks[0]}" if len(ks) == 1 else f"k = {', '.join(map(str, ks))}"
        fig = phase_figure(rows, f"{k_text}, widths {widths}, {args.trials} trials per point", per_k=len(ks) > 1)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.out)
    report = {"k": ks[0] if len(ks) == 1 else ks, "widths": widths, "trials": args.trials, "steps": args.steps,
              "seed": args.seed, "noise": args.noise, "device": describe_device(device), "results": rows}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{'k':>4} {'m':>6} {'plain GD':>9} {'negation':>9}")
        for r in rows:
            print(f"{r['k']:>4} {r['m']:>6} {r['success']['gd']:>9.2f} {r['success']['negation']:>9.2f}")
    return 0


def _heatmap(args) -> int:
    method = check_method(args.method)
    risk, z0, widths, device = _problem(args)
    heat = heat_map(risk, len(widths), args.grid)
    snaps = list(descend(risk, z0, method, args.steps, args.lr, every=1))
    paths = np.stack([s.z[0].numpy() for s in snaps])
    reached = risk.reached(snaps[-1].z.to(device))[0].cpu().numpy()
    title = f"{METHODS[method]}: {int(reached.sum())} of {len(reached)} reached z*\nk = 2, widths {widths}, m = {risk.A.shape[1]}"
    fig = landscape_figure(heat.axis, heat.values, heat.star, heat.spurious, paths, reached, title)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(args.out)
    return 0


def _slice(args) -> int:
    from ..priors import PRIORS
    if args.prior not in PRIORS:
        raise InputError(f"unknown prior {args.prior!r}; choose from {', '.join(PRIORS)}")
    prior = PRIORS[args.prior]
    device = resolve_device(args.device)
    risk, plane, starts = slice_problem(prior.load(device), prior.latent_dim, args.m, args.noise, args.seed,
                                        args.restarts, device)
    snaps = list(descend(risk, starts, "adam", args.steps or prior.adam.steps, prior.adam.lr, every=5))
    paths = plane.project(torch.stack([s.z[0] for s in snaps])).cpu().numpy()
    reached = risk.reached(snaps[-1].z.to(device))[0].cpu().numpy()
    heat = slice_map(risk, plane, args.grid)
    title = (f"{args.prior.upper()}, m = {args.m}: f on the plane through z*, −z*, 0\n"
             f"{args.restarts} CSGM restarts (projected), {int(reached.sum())} reached z*")
    fig = landscape_figure(heat.axis, heat.values, heat.star, heat.spurious, paths, reached, title, "along z*/‖z*‖ (units of ‖z*‖)",
                           "random orthogonal direction", spurious_label="−z*")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(args.out)
    return 0


def run(args) -> int:
    handlers = {"rho": _rho, "descend": _descend, "phase": _phase, "heatmap": _heatmap, "slice": _slice}
    return handlers[args.landscape_command](args)
