"""The machine the bench ran on, and the time to the first streamed snapshot of ``run_methods`` (every
``SNAPSHOT_EVERY`` iterations) on the demo's default settings: an MNIST digit at m = 100 with lasso-pixel +
csgm-vae; the bench's face at m = 500 with lasso-dct + csgm-dcgan."""
import os
import platform
import time
from dataclasses import dataclass

import torch

from ...devices import describe_device
from ...domains import get_domain
from ...problem import make_problem
from ...session import run_methods
from ...solvers import Options
from .common import FACES_M, PROBLEM_SEED, SNAPSHOT_EVERY, median, sync


@dataclass
class Machine:
    cpu: str
    cores: int
    cores_usable: int
    torch_threads: int
    device: str
    torch: str
    numpy: str
    sklearn: str
    python: str
    load_average_start: list[float]
    load_average_end: list[float] | None = None


@dataclass
class FirstSnapshot:
    m: int
    methods: list[str]
    every: int
    noise: float
    first_frame_s: float | None
    all_methods_s: float | None
    cold_first_frame_s: float | None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def machine(device: torch.device) -> Machine:
    import numpy
    import sklearn
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return Machine(cpu_model(), os.cpu_count(), usable, torch.get_num_threads(), describe_device(device),
                   torch.__version__, numpy.__version__, sklearn.__version__, platform.python_version(),
                   load_average())


def time_to_first_snapshot(truth: torch.Tensor, domain: str, m: int, methods: list[str],
                           device: torch.device, every: int = SNAPSHOT_EVERY) -> tuple[float, float]:
    """Wall time from building the problem (A, y) to the first streamed frame, and until every method
    has reported once. Priors are loaded (and cached) inside ``run_methods``, as in the app."""
    sync(device)
    start = time.perf_counter()
    problem = make_problem(truth, get_domain(domain), "gaussian", {"m": m}, 0.0, PROBLEM_SEED, device)
    first = everyone = None
    frames = run_methods(problem, methods, Options(), every=every)
    for frame in frames:
        now = time.perf_counter() - start
        first = now if first is None else first
        if len(frame.latest) == len(methods):
            everyone = now
            break
    frames.close()
    return first, everyone


def bench_first_snapshot(faces_truth: torch.Tensor, repeats: int, device: torch.device) -> dict[str, FirstSnapshot]:
    from ...priors.mnist_data import load_split
    cases = {
        "mnist": (load_split("test")[0][:1].to(device), "mnist", 100, ["lasso-pixel", "csgm-vae"]),
        "faces": (faces_truth, "faces", FACES_M, ["lasso-dct", "csgm-dcgan"]),
    }
    out = {}
    for key, (truth, domain, m, methods) in cases.items():
        runs = [time_to_first_snapshot(truth, domain, m, methods, device) for _ in range(repeats)]
        out[key] = FirstSnapshot(m, methods, SNAPSHOT_EVERY, 0.0, median([r[0] for r in runs]),
                                 median([r[1] for r in runs]), runs[0][0])
    return out
