"""``python -m cs_core sweep|bench|lambda-check|beyond``: the experiments from the command line."""
import json
from contextlib import contextmanager
from pathlib import Path

from ..arguments import parse_list
from ..devices import DEVICE_CHOICES, resolve_device
from ..domains import DOMAINS
from ..errors import InputError
from ..operators import cli as operator_cli
from ..problem import check_noise
from ..solvers import MAX_ITERATIONS, check_methods
from . import posterior
from .splits import EVAL_SEED, SOURCES
from .table import TRIVIAL_FIELDS, write_rows

BEYOND_METHODS = "csgm-dcgan,lasso-wavelet,sparse-gen-dcgan,ilo-dcgan,finetune-dcgan"
SEED_HELP = ("the experiment's seed (≥ 0); image i of a split is measured with its own A, noise and solver "
             "starts from seed·2²³ + split·2²⁰ + i, the seed column of its row")


def add_cluster_arguments(parser):
    """``--dask ADDRESS`` / ``--workers N``: each cell of the run a Dask task (default: serial, in this process)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--dask", metavar="ADDRESS", help="run each cell as a task on this Dask scheduler "
                                                         "(e.g. tcp://host:8786; its workers import cs_core)")
    where.add_argument("--workers", type=int, help="run each cell as a task on a local Dask cluster of this many "
                                                   "single-threaded worker processes")


@contextmanager
def cluster(args):
    """The Dask client ``--dask``/``--workers`` ask for (closed on exit), or None: the serial path."""
    if args.dask is None and args.workers is None:
        yield None
        return
    from distributed import Client, LocalCluster
    if args.dask is not None:
        try:
            client = Client(args.dask, timeout="10s", set_as_default=False)
        except OSError as exc:
            raise InputError(f"no Dask scheduler answers at {args.dask} ({exc}); start one or drop --dask") from None
        with client:
            yield client
        return
    if not 1 <= args.workers <= 256:
        raise InputError(f"--workers must be from 1 to 256; got {args.workers}")
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as local, \
            Client(local, set_as_default=False) as client:
        yield client


def add_parsers(commands):
    sw = commands.add_parser("sweep", help="error vs m for several methods: results.csv and figure.png")
    sw.add_argument("--domain", required=True, choices=list(DOMAINS))
    sw.add_argument("--methods", required=True, help="comma-separated, e.g. lasso-dct,csgm-vae")
    sw.add_argument("--m", help="comma-separated m values (default: the paper's for the domain)")
    sw.add_argument("--images", type=int, help="number of images (default: all held-out digits / 32 faces / all photos)")
    sw.add_argument("--source", default=None, choices=list(SOURCES),
                    help="heldout MNIST test digits, in-range G(z), or real photos (default heldout/inrange)")
    sw.add_argument("--operator", default="gaussian", choices=["gaussian", "fourier", "blur"],
                    help="gaussian (the --m values are the sweep's points) or fourier/blur at the flags below")
    operator_cli.add_arguments(sw)
    sw.add_argument("--noise", type=float, default=0.0)
    sw.add_argument("--lam-rule", default="validation", choices=["validation", "per-image"],
                    help="Lasso's λ: one ratio per m chosen on validation images (docs/RESULTS.md's protocol), "
                         "or the solver's own per-image rule (cross-validation / discrepancy principle)")
    sw.add_argument("--lasso-iters", type=int,
                    help="Lasso's iterations in all (default: 300, or 540 with --lam-rule per-image), e.g. enough to "
                         "converge; rows are resumed by key, not by iterations: use a fresh --out")
    sw.add_argument("--seed", type=int, default=0, help=SEED_HELP)
    sw.add_argument("--device", default="auto", choices=list(DEVICE_CHOICES))
    sw.add_argument("--out", required=True, help="directory; an existing results.csv there is resumed")
    add_cluster_arguments(sw)

    bench = commands.add_parser("bench", help="speed of our solvers against the original's (sklearn, unbatched Adam)")
    bench.add_argument("--device", default="auto", choices=list(DEVICE_CHOICES))
    bench.add_argument("--repeats", type=int, default=3)
    bench.add_argument("--quick", action="store_true", help="few steps and repeats (a smoke run)")
    bench.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--app", action="store_true",
                       help="the app's cost instead: the four faces examples through its API against the same handler "
                            "in-process, --repeats rounds (python -m ui.app_bench in a process of its own)")

    check = commands.add_parser("lambda-check", help="Lasso with its default per-image λ against each operator's "
                                                     "trivial estimate, on the gallery and the validation images")
    check.add_argument("--domain", required=True, choices=list(DOMAINS))
    check.add_argument("--noise", default="0,0.01", help="comma-separated noise levels σ")
    check.add_argument("--seed", type=int, default=0, help=SEED_HELP)
    check.add_argument("--device", default="auto", choices=list(DEVICE_CHOICES))
    check.add_argument("--out", required=True, help="CSV file (rewritten), one row per image; a table is printed")

    p = commands.add_parser("beyond", help="faces off the generator's range: CSGM vs Lasso vs the range-extending "
                                           "methods, hyper-parameters chosen on validation (resumable)")
    p.add_argument("--methods", default=BEYOND_METHODS, help=f"comma-separated (default {BEYOND_METHODS})")
    p.add_argument("--m", default="500,1000,2500,5000", help="comma-separated m values")
    p.add_argument("--inrange", type=int, default=4,
                   help=f"how many in-range faces (seeds {EVAL_SEED}+) to report too (0: none)")
    p.add_argument("--noise", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)
    p.add_argument("--device", default="auto", choices=list(DEVICE_CHOICES))
    p.add_argument("--out", required=True, help="directory; results.csv, validation.csv, oracle.csv there are resumed")
    add_cluster_arguments(p)
    posterior.add_parser(commands)


def sweep(args) -> int:
    from .paper import PAPER_M, run_sweep
    ms = parse_list(args.m, int, "--m") if args.m else list(PAPER_M[args.domain])
    source = args.source or ("heldout" if args.domain == "mnist" else "inrange")
    if args.images is not None and args.images < 1:
        raise InputError(f"--images must be at least 1; got {args.images}")
    if args.lasso_iters is not None and not 1 <= args.lasso_iters <= MAX_ITERATIONS:
        raise InputError(f"--lasso-iters must be from 1 to {MAX_ITERATIONS}; got {args.lasso_iters}")
    if args.operator != "gaussian" and args.m:
        raise InputError(f"--m sets gaussian's sweep points; {args.operator} is measured at its own flags "
                         f"(--accel, --kernel, ...)")
    with cluster(args) as client:
        rows = run_sweep(args.domain, parse_list(args.methods, str, "--methods"), ms, source, args.images,
                         check_noise(args.noise), args.seed, resolve_device(args.device), Path(args.out),
                         operator=args.operator, params=operator_cli.params(args), lam_rule=args.lam_rule,
                         lasso_iterations=args.lasso_iters, client=client)
    print(f"{len(rows)} rows in {Path(args.out) / 'results.csv'}; figure {Path(args.out) / 'figure.png'}")
    return 0


def lambda_check(args) -> int:
    from .lambda_check import against_trivial, trivial_table
    noises = [check_noise(n) for n in parse_list(args.noise, float, "--noise")]
    rows = [row for noise in noises for row in against_trivial(args.domain, noise, args.seed,
                                                                resolve_device(args.device))]
    write_rows(Path(args.out), TRIVIAL_FIELDS, rows)
    print(trivial_table(rows))
    return 0


def bench(args) -> int:
    from .bench import run_bench
    from .bench.report import format_report
    if args.repeats < 1:
        raise InputError(f"--repeats must be at least 1; got {args.repeats}")
    if args.threads is not None and args.threads < 1:
        raise InputError(f"--threads must be at least 1; got {args.threads}")
    if args.app:
        return app_bench(args)
    result = run_bench(resolve_device(args.device), args.repeats, args.quick, args.threads)
    print(json.dumps(result) if args.json else format_report(result))
    return 0


def app_bench(args) -> int:
    """``bench --app``: the app's side runs as ``python -m ui.app_bench`` in a process of its own (nothing in
    cs_core imports the UI or Gradio); its report, or with ``--json`` its JSON object, is printed as it comes."""
    import os
    import subprocess
    import sys
    resolve_device(args.device)  # a missing GPU is the same one-line error as for the solver bench
    env = {**os.environ, **({"OMP_NUM_THREADS": str(args.threads)} if args.threads else {})}
    command = [sys.executable, "-m", "ui.app_bench", "--device", args.device,
               "--rounds", "1" if args.quick else str(args.repeats), *(["--json"] if args.json else [])]
    return subprocess.run(command, cwd=Path(__file__).resolve().parents[2], env=env).returncode


def beyond(args) -> int:
    from .beyond import TUNED, measures, run
    from .beyond_tasks import run_on
    methods = check_methods(parse_list(args.methods, str, "--methods"), "faces")
    unsupported = [m for m in methods if not measures(m)]
    if unsupported:
        raise InputError(f"beyond measures csgm-dcgan, lasso-* and {', '.join(TUNED)}; not {', '.join(unsupported)}")
    ms = parse_list(args.m, int, "--m")
    if not ms or any(not 1 <= m <= 10_000 for m in ms):
        raise InputError(f"every m must lie in 1..10000; got {args.m}")
    if args.inrange < 0:
        raise InputError(f"--inrange must be ≥ 0; got {args.inrange}")
    with cluster(args) as client:
        arguments = (methods, ms, args.inrange, check_noise(args.noise), args.seed, resolve_device(args.device),
                     Path(args.out), lambda line: print(line, flush=True))
        rows = run(*arguments) if client is None else run_on(client, *arguments)
    print(f"{len(rows)} rows in {Path(args.out) / 'results.csv'}")
    return 0


COMMANDS = {"sweep": sweep, "bench": bench, "lambda-check": lambda_check, "beyond": beyond,
            "posterior-check": posterior.command}
