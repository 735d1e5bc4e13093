"""``python -m cs_core beyond``: the beyond-the-range measurement (docs/RESULTS.md) from the command line."""
from pathlib import Path

from ..devices import DEVICE_CHOICES, resolve_device
from ..errors import InputError
from ..problem import check_noise

DEFAULT_METHODS = "csgm-dcgan,lasso-wavelet,sparse-gen-dcgan,ilo-dcgan,finetune-dcgan"


def add_parser(commands):
    p = commands.add_parser("beyond", help="faces off the generator's range: CSGM vs Lasso vs the range-extending "
                                           "methods, hyper-parameters chosen on validation (resumable)")
    p.add_argument("--methods", default=DEFAULT_METHODS, help=f"comma-separated (default {DEFAULT_METHODS})")
    p.add_argument("--m", default="500,1000,2500,5000", help="comma-separated m values")
    p.add_argument("--inrange", type=int, default=4, help="how many in-range faces (seeds 2000+) to report too (0: none)")
    p.add_argument("--noise", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=list(DEVICE_CHOICES))
    p.add_argument("--out", required=True, help="directory; results.csv, validation.csv, oracle.csv there are resumed")


def command(args) -> int:
    from ..cli import parse_list
    from ..solvers import check_methods
    from .sweep import TUNED, run
    methods = check_methods(parse_list(args.methods, str, "--methods"), "faces")
    unsupported = [m for m in methods if m not in TUNED and m not in ("csgm-dcgan",) and not m.startswith("lasso-")]
    if unsupported:
        raise InputError(f"beyond measures csgm-dcgan, lasso-* and {', '.join(TUNED)}; not {', '.join(unsupported)}")
    ms = parse_list(args.m, int, "--m")
    if not ms or any(not 1 <= m <= 10_000 for m in ms):
        raise InputError(f"every m must lie in 1..10000; got {args.m}")
    if args.inrange < 0:
        raise InputError(f"--inrange must be ≥ 0; got {args.inrange}")
    rows = run(methods, ms, args.inrange, check_noise(args.noise), args.seed, resolve_device(args.device),
               Path(args.out), progress=lambda line: print(line, flush=True))
    print(f"{len(rows)} rows in {Path(args.out) / 'results.csv'}")
    return 0
