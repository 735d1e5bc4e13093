"""Command line: ``python -m cs_core reconstruct ...`` and ``python -m cs_core sample ...``.

Bad input prints one line ``error: <what and how to fix>`` to stderr and exits with status 2.
"""
import argparse
import json
import sys
from pathlib import Path

import torch

from . import operators, solvers
from .devices import DEVICE_CHOICES, describe_device, resolve_device
from .domains import DOMAINS, get_domain
from .errors import InputError
from .experiments import cli as experiments_cli
from .export import RunRecord, write_csv, write_gif, write_png
from .faces import load_input
from .images import load_image_array, save_png
from .landscape import cli as landscape_cli
from .operators import OPERATORS
from .operators import cli as operator_cli
from .problem import make_problem
from .session import run_methods, run_to_end
from .settings import BY_NAME as FIELD
from .settings import OPTIONS_FIELDS
from .sketching import cli as sketch_cli
from .solvers import METHODS, Options
from .tab_settings import check_args
from .solvers.posterior import sample_grid, std_image

EXIT_INPUT_ERROR = 2
EXPORT_EVERY = 5  # with --gif/--png/--csv: a snapshot every 5 iterations, as in the app


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one ``error:`` line (exit 2), never a usage dump."""

    def error(self, message):
        raise InputError(message)


def add_problem_arguments(p: argparse.ArgumentParser):
    """The problem's flags, from ``cs_core.settings.FIELDS`` (the image, the domain, the operator and its flags,
    noise, seed, device)."""
    source = p.add_mutually_exclusive_group(required=True)
    operator_cli.add_field(source, FIELD["upload"])
    operator_cli.add_field(source, FIELD["asset"])
    operator_cli.add_field(p, FIELD["domain"], required=True, choices=list(FIELD["domain"].choices))
    operator_cli.add_field(p, FIELD["operator"], required=True)
    operator_cli.add_arguments(p, OPERATORS)
    operator_cli.add_field(p, FIELD["mask_editor"])
    for name in ("noise", "seed"):
        operator_cli.add_field(p, FIELD[name], default=FIELD[name].default)
    operator_cli.add_field(p, FIELD["device"], default=FIELD["device"].default, choices=list(DEVICE_CHOICES))


def build_parser() -> Parser:
    parser = Parser(prog="python -m cs_core", description="Compressed sensing with generative priors.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    rec = commands.add_parser("reconstruct", help="measure an image and reconstruct it with several methods")
    add_problem_arguments(rec)
    operator_cli.add_field(rec, FIELD["methods"], action="append", required=True)
    for field in OPTIONS_FIELDS:  # --iters, --restarts, --lr, --lam, --csgm-lam
        operator_cli.add_field(rec, field)
    rec.add_argument("--face-crop", action="store_true",
                     help="faces: crop the --image photo to its largest face, framed like the generator's faces "
                          "(no face found: the centre square, as without the flag)")
    rec.add_argument("--out", help="directory for truth.png, measurements.png and one PNG per method")
    rec.add_argument("--json", action="store_true", help="print one JSON object with the results")
    rec.add_argument("--gif", help="write an animated GIF of the convergence (truth, sensor view, every method)")
    rec.add_argument("--png", help="write a PNG of the final grid, labelled")
    rec.add_argument("--csv", help="write the convergence data (every snapshot of every method) as CSV")

    experiments_cli.add_parsers(commands)

    sample = commands.add_parser("sample", help="write G(z) for z drawn from a seed")
    sample.add_argument("--domain", required=True, choices=list(DOMAINS))
    sample.add_argument("--seed", type=int, required=True)
    sample.add_argument("--device", default="auto", choices=list(DEVICE_CHOICES))
    sample.add_argument("--out", required=True, help="output PNG path")
    landscape_cli.add_parser(commands)
    sketch_cli.add_parser(commands)
    for p in (parser, *commands.choices.values()):
        list_registries(p)
    return parser


def list_registries(p: argparse.ArgumentParser):
    """End ``p``'s --help with the registered methods and operators that its --method(s) and --operator take
    (all of them for the top-level parser), as the registries describe themselves."""
    actions = {a.dest: a for a in p._actions}
    top = "command" in actions
    parts = [solvers.describe()] if top or {"method", "methods"} & actions.keys() else []
    if top or "operator" in actions:
        parts.append(operators.describe(None if top else actions["operator"].choices))
    if parts:
        p.epilog = "\n\n".join(parts)
        p.formatter_class = argparse.RawDescriptionHelpFormatter


def operator_params(args) -> dict:
    """Every operator's params from its flags, each through its field's validator."""
    params = operator_cli.params(args, OPERATORS)
    if args.mask_image is not None:
        if args.mask not in (None, "drawn"):
            raise InputError(f"--mask-image draws the mask: use it without --mask {args.mask} (or with --mask drawn)")
        params.update(mask="drawn", mask_image=load_image_array(args.mask_image))
    return params


def options(args) -> Options:
    """The methods' overrides (--iters, --restarts, --lr, --lam, --csgm-lam), each through its field's validator."""
    return Options(**{f.target: f.check(getattr(args, operator_cli.dest(f))) for f in OPTIONS_FIELDS})


def run_and_export(problem, methods: list[str], options: Options, args) -> dict:
    """Final snapshots of every method; with --gif/--png/--csv the run streams snapshots every
    ``EXPORT_EVERY`` steps and the files are drawn from them."""
    if not (args.gif or args.png or args.csv):
        return run_to_end(problem, methods, options)
    record = RunRecord(problem.truth, problem.view(), {}, problem.operator.m)
    frame = None
    for frame in run_methods(problem, methods, options, every=EXPORT_EVERY):
        record.add(frame)
    record.labels = {name: METHODS[name].label for name in record.history}
    for path, write in ((args.gif, write_gif), (args.png, write_png), (args.csv, write_csv)):
        if path:
            write(record, path)
    return frame.latest


def reconstruct(args) -> int:
    domain = get_domain(args.domain)
    device = resolve_device(args.device)
    truth, crop = load_input(domain, image=args.image, asset=args.asset, crop_face=args.face_crop)
    params = operator_params(args)
    seed = FIELD["seed"].check(args.seed)
    problem = make_problem(truth, domain, args.operator, params, FIELD["noise"].check(args.noise), seed, device)
    results = run_and_export(problem, args.method, options(args), args)
    if args.out:
        out = Path(args.out)
        save_png(problem.truth, out / "truth.png")
        save_png(problem.view(), out / "measurements.png")
        for name, snap in results.items():
            save_png(snap.estimate, out / f"{name}.png")
        sampled = [name for name, snap in results.items() if "samples" in snap.extra]  # posterior methods
        for name in sampled:
            prefix = "" if len(sampled) == 1 else f"{name}-"
            save_png(sample_grid(results[name].extra["samples"][0]), out / f"{prefix}samples.png")
            save_png(std_image(results[name].extra["std"]), out / f"{prefix}std.png")
    report = {
        "domain": domain.name,
        "operator": args.operator,
        "params": {**{k: v for k, v in params.items() if v is not None and k != "mask_image"},
                   **({"mask_image": args.mask_image} if args.mask_image else {}), "m_measurements": problem.operator.m,
                   "noise": problem.noise, "seed": seed},
        "device": describe_device(device),
        **({"face_crop": {"face": crop.face, "box": list(crop.box), "note": crop.note}} if crop else {}),
        "results": [
            {"method": name, "mse": snap.mse[0], "psnr": snap.psnr[0], "ssim": snap.ssim[0],
             "seconds": snap.seconds, "iterations": snap.iteration, "message": snap.message,
             **{key: snap.extra[key][0] for key in ("std_mean", "coverage") if key in snap.extra}}
            for name, snap in results.items()
        ],
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{domain.name} · {args.operator} · m = {problem.operator.m} · noise σ = {problem.noise} · {report['device']}")
        if crop:
            print(f"face crop: {crop.note}")
        print(f"{'method':<15} {'MSE [0,1]':>10} {'PSNR dB':>8} {'SSIM':>6} {'iters':>6} {'seconds':>8}")
        for r in report["results"]:
            print(f"{r['method']:<15} {r['mse']:>10.5f} {r['psnr']:>8.2f} {r['ssim']:>6.3f} {r['iterations']:>6} "
                  f"{r['seconds']:>8.2f}" + (f"  ({r['message']})" if r["message"] else ""))
    return 0


def sample(args) -> int:
    from .priors import PRIORS
    from .priors.sampling import sample as draw
    domain = get_domain(args.domain)
    device = resolve_device(args.device)
    names = [p.name for p in PRIORS.values() if p.domain == domain.name]
    if not names:
        raise InputError(f"no generative prior is installed for {domain.name}")
    image = draw(names[0], args.seed, device)
    save_png(image, args.out)
    print(args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        check_args(args)
        commands = {"reconstruct": reconstruct, **experiments_cli.COMMANDS, "sample": sample,
                    "landscape": landscape_cli.run, "sketch": sketch_cli.run}
        return commands[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except torch.cuda.OutOfMemoryError:
        print("error: the GPU ran out of memory; use a smaller --m or --restarts, or --device cpu", file=sys.stderr)
        return EXIT_INPUT_ERROR
