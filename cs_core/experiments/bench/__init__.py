"""Speed, side by side: our solvers against the straightforward ones of the original code, on one problem.

``run_bench(device, repeats, quick)`` measures, on the same problems: CSGM-DCGAN against the original's loop
(``csgm``), Lasso against scikit-learn (``lasso``), the time to the first streamed snapshot of ``run_methods``
on the demo's default settings (``snapshot``), and the peak memory: the process's peak RSS after each section
(CPU), or ``torch.cuda.max_memory_allocated`` per section (CUDA). Times are medians over ``repeats`` runs.
``python -m cs_core bench [--device auto|cpu|cuda] [--json] [--repeats N] [--quick] [--threads N]`` prints
the table (``report``) or one JSON object (the result's dataclasses as plain dicts).
"""
import resource
import time
from dataclasses import asdict, dataclass

import torch

from .common import FULL, QUICK, BenchSettings, faces_problem, faces_truth
from .csgm import CSGMBench, bench_csgm
from .lasso import LassoBench, bench_lasso
from .snapshot import FirstSnapshot, Machine, bench_first_snapshot, load_average, machine


@dataclass
class BenchResult:
    quick: bool
    repeats: int
    settings: BenchSettings
    machine: Machine
    first_snapshot: dict[str, FirstSnapshot]
    csgm: CSGMBench
    lasso: LassoBench
    memory: dict[str, dict]   # after_<section> → peak_rss_mib (and cuda_peak_allocated_mib)
    section_wall_s: dict[str, float]
    wall_s: float


def peak_memory_mib(device: torch.device) -> dict:
    """Process peak RSS so far (Linux reports KiB) and, on CUDA, the peak allocated since the last reset."""
    out = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        out["cuda_peak_allocated_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def run_bench(device: torch.device, repeats: int = 3, quick: bool = False, threads: int | None = None) -> dict:
    """Run every section on ``device``; the result as one JSON-ready dict (settings, machine, results, memory).

    ``quick`` shortens CSGM to 5 steps and loosens the F* search (for tests). ``threads`` sets torch's
    CPU threads for the run (restored after); ``None`` keeps the current setting. Speed ratios are
    reported as reference time ÷ our time (> 1: ours is faster), ``None`` where a target was never reached.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be ≥ 1; got {repeats}")
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return asdict(_run_bench(device, repeats, QUICK if quick else FULL, quick))
    finally:
        torch.set_num_threads(previous_threads)


def _run_bench(device: torch.device, repeats: int, settings: BenchSettings, quick: bool) -> BenchResult:
    wall = time.perf_counter()
    described = machine(device)
    truth = faces_truth(device)
    problem = faces_problem(device, truth)
    sections = {
        "first_snapshot": lambda: bench_first_snapshot(truth, repeats, device),
        "csgm": lambda: bench_csgm(problem, repeats, settings),
        "lasso": lambda: bench_lasso(problem, repeats, settings),
    }
    results, memory, seconds = {}, {}, {}
    for name, section in sections.items():
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        start = time.perf_counter()
        results[name] = section()
        seconds[name] = time.perf_counter() - start
        memory[f"after_{name}"] = peak_memory_mib(device)
    described.load_average_end = load_average()
    return BenchResult(quick, repeats, settings, described, **results, memory=memory, section_wall_s=seconds,
                       wall_s=time.perf_counter() - wall)
