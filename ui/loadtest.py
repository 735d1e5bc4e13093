"""Load test of the demo app: many concurrent ``gradio_client`` sessions against one local server.

    python -m ui.loadtest --url http://127.0.0.1:7860/ [--sessions 8] [--runs 3] [--iters 200]

Each session runs ``--runs`` reconstructions (MNIST gallery digit, Gaussian m, Lasso methods by default) with
its own seeds. Checked: every run completes; each result equals the same settings run alone, in this process,
through the core (``make_problem`` + ``run_to_end``: same seed → same numbers); the server's resident memory
(``/proc/PID/status``, the PID found from the listening port or given with ``--pid``) returns close to its
baseline. Prints a summary (runs, failures, p50/p95 latency, wall time, memory before/peak/after); exit status
0 when all runs completed and matched, 1 otherwise, 2 on bad arguments. Loopback URLs only; bounded in count
(``--sessions`` ≤ 32, ``--runs`` ≤ 10) and in time (``--timeout``).
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch

from cs_core.assets import load_truth
from cs_core.domains import get_domain
from cs_core.errors import InputError
from cs_core.problem import make_problem
from cs_core.session import run_to_end
from cs_core.settings import BY_NAME, ReconstructSettings
from cs_core.solvers import METHODS

from .reconstruct.form import NAMES, SIGNATURE
from .reconstruct.handlers import METRIC_COLUMNS

MAX_SESSIONS = 32
MAX_RUNS = 10
ASSET = "digit-test-3856"
MIB = 2 ** 20


def check_loopback(url: str) -> str:
    """The URL, if it points at this machine (127.0.0.0/8, ::1 or localhost); else an ``InputError``."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if parsed.scheme not in ("http", "https") or not host:
        raise InputError(f"--url must be an http://127.0.0.1:PORT/ address; got {url!r}")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise InputError(f"the load test only runs against this machine (127.0.0.1, ::1, localhost); got {host}")
    return url


# ---------------------------------------------------------------- server memory (Linux /proc)

def server_pid(url: str) -> int | None:
    """PID of the process listening on the URL's port (its socket's inode in /proc/net/tcp*), if visible."""
    port = urlparse(url).port or 80
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":  # 0A = LISTEN
                inodes.add(f"socket:[{cols[9]}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


def rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class MemoryWatch:
    """Samples the server's RSS every ``interval`` seconds in a thread; keeps the peak."""

    def __init__(self, pid: int | None, interval: float = 0.05):
        self.pid, self.interval, self.peak = pid, interval, rss_mib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.wait(self.interval):
            value = rss_mib(self.pid)
            if value is not None:
                self.peak = max(self.peak or 0.0, value)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------- runs

@dataclass
class Settings:
    methods: tuple[str, ...] = ("lasso-dct", "lasso-wavelet")
    m: int = 100
    iterations: int = 200
    noise: float = 0.01
    asset: str = ASSET


@dataclass
class RunResult:
    session: int
    seed: int
    seconds: float
    metrics: dict = field(default_factory=dict)  # method → {"mse", "psnr", "ssim", "iters"}
    error: str = ""
    updates: int = 0


def form_values(settings: Settings, seed: int) -> dict:
    """The run's form fields (the others at the settings' defaults)."""
    return dict(asset=settings.asset, domain="mnist", operator="gaussian", m=settings.m, noise=settings.noise,
                methods=list(settings.methods), iterations=settings.iterations, seed=seed, device="cpu")


def client_arguments(settings: Settings, seed: int) -> dict:
    """The /reconstruct request: every parameter the API requires, by name (``ui.reconstruct.form.NAMES``)."""
    values = form_values(settings, seed)
    return {name: values.get(name, BY_NAME[name].default) for name in NAMES
            if SIGNATURE.parameters[name].default is SIGNATURE.empty}


def table_metrics(table: dict) -> dict:
    """The app's final metrics table (``ui.reconstruct.handlers.METRIC_COLUMNS``) → ``{label: {"mse", "psnr",
    "ssim", "iters"}}``."""
    method, mse, psnr, ssim, _, iters = METRIC_COLUMNS
    out = {}
    for row in table["data"]:
        r = dict(zip(table["headers"], row))
        out[r[method]] = {"mse": r[mse], "psnr": r[psnr], "ssim": r[ssim], "iters": r[iters]}
    return out


def run_session(url: str, session: int, seeds: list[int], settings: Settings, deadline: float) -> list[RunResult]:
    """One visitor: its own ``Client`` (own session), its runs one after the other."""
    from gradio_client import Client

    results = []
    client = Client(url, verbose=False)
    for seed in seeds:
        started = time.perf_counter()
        result = RunResult(session, seed, 0.0)
        try:
            job = client.submit(**client_arguments(settings, seed), api_name="/reconstruct")
            last = None
            for update in job:
                last = update
                result.updates += 1
                if time.monotonic() > deadline:
                    job.cancel()
                    raise TimeoutError("the load test's --timeout was reached")
            if last is None:
                last = job.result()
            if not str(last[0]).endswith("done"):
                raise RuntimeError(f"the run ended with status {last[0]!r}")
            result.metrics = table_metrics(last[-1])
        except Exception as exc:  # noqa: BLE001 - a failed run is counted and reported, not raised
            result.error = f"{type(exc).__name__}: {exc}"
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results


def alone(settings: Settings, seed: int) -> dict:
    """The same run done alone, in this process, through the core (what the app calls with the same settings)."""
    s = ReconstructSettings.checked(form_values(settings, seed))
    dom = get_domain(s.domain)
    problem = make_problem(load_truth(dom, asset=s.asset), dom, s.operator, s.params(), s.noise, s.seed,
                           torch.device(s.device))
    snaps = run_to_end(problem, list(s.methods), s.options())
    return {METHODS[n].label: {"mse": s.mse[0], "psnr": s.psnr[0], "ssim": s.ssim[0], "iters": s.iteration}
            for n, s in snaps.items()}


def same(got: dict, want: dict, rel: float = 1e-6) -> bool:
    if set(got) != set(want):
        return False
    for label, w in want.items():
        g = got[label]
        if g["iters"] != w["iters"]:
            return False
        for key in ("mse", "psnr", "ssim"):
            if abs(g[key] - w[key]) > rel * max(abs(w[key]), 1e-12) + 1e-9:
                return False
    return True


def load_test(url: str, sessions: int = 8, runs: int = 3, settings: Settings | None = None, timeout: float = 600.0,
              pid: int | None = None, settle: float = 2.0) -> dict:
    """Run the load test; return the summary (see the module's docstring)."""
    check_loopback(url)
    if not 1 <= sessions <= MAX_SESSIONS:
        raise InputError(f"--sessions must be from 1 to {MAX_SESSIONS}; got {sessions}")
    if not 1 <= runs <= MAX_RUNS:
        raise InputError(f"--runs must be from 1 to {MAX_RUNS}; got {runs}")
    settings = settings or Settings()
    pid = pid if pid is not None else server_pid(url)
    seeds = {s: [1000 + s * runs + r for r in range(runs)] for s in range(sessions)}

    # warm-up: one run through the server, so the baseline includes its one-time allocations
    warm = run_session(url, -1, [999], settings, time.monotonic() + timeout)[0]
    if warm.error:
        raise RuntimeError(f"the warm-up run failed: {warm.error}")
    time.sleep(settle)
    before = rss_mib(pid)
    deadline = time.monotonic() + timeout
    started = time.perf_counter()
    with MemoryWatch(pid) as watch, ThreadPoolExecutor(sessions) as pool:
        futures = [pool.submit(run_session, url, s, seeds[s], settings, deadline) for s in range(sessions)]
        results = [r for f in futures for r in f.result()]
    wall = time.perf_counter() - started
    time.sleep(settle)
    after = rss_mib(pid)

    references = {r.seed: alone(settings, r.seed) for r in results if not r.error}
    mismatched = [r for r in results if not r.error and not same(r.metrics, references[r.seed])]
    failures = [r for r in results if r.error]
    latencies = [r.seconds for r in results if not r.error]
    return {
        "url": url, "sessions": sessions, "runs_per_session": runs, "runs": len(results),
        "methods": list(settings.methods), "m": settings.m, "iterations": settings.iterations,
        "completed": len(results) - len(failures), "failures": [f"session {r.session} seed {r.seed}: {r.error}"
                                                                 for r in failures],
        "identical_to_alone": len(results) - len(failures) - len(mismatched),
        "mismatched": [f"session {r.session} seed {r.seed}" for r in mismatched],
        "latency_p50_s": float(np.percentile(latencies, 50)) if latencies else float("nan"),
        "latency_p95_s": float(np.percentile(latencies, 95)) if latencies else float("nan"),
        "wall_s": wall, "server_pid": pid,
        "rss_before_mib": before, "rss_peak_mib": watch.peak, "rss_after_mib": after,
        "ok": not failures and not mismatched,
    }


def format_summary(s: dict) -> str:
    def mib(v):
        return "unknown" if v is None else f"{v:.0f} MiB"
    lines = [
        f"load test of {s['url']}: {s['sessions']} sessions × {s['runs_per_session']} runs "
        f"({', '.join(s['methods'])}, m = {s['m']}, {s['iterations']} iterations)",
        f"runs {s['runs']} · completed {s['completed']} · failures {len(s['failures'])} · "
        f"identical to alone {s['identical_to_alone']}/{s['runs']}",
        f"latency p50 {s['latency_p50_s']:.2f} s · p95 {s['latency_p95_s']:.2f} s · wall {s['wall_s']:.1f} s",
        f"server memory (pid {s['server_pid']}): before {mib(s['rss_before_mib'])} · peak {mib(s['rss_peak_mib'])} "
        f"· after {mib(s['rss_after_mib'])}",
    ]
    lines += [f"  failed: {f}" for f in s["failures"]] + [f"  differs from alone: {m}" for m in s["mismatched"]]
    lines.append("OK" if s["ok"] else "FAILED")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.loadtest", description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the demo's URL, on this machine (e.g. http://127.0.0.1:7860/)")
    parser.add_argument("--sessions", type=int, default=8, help=f"concurrent client sessions (1–{MAX_SESSIONS})")
    parser.add_argument("--runs", type=int, default=3, help=f"reconstructions per session (1–{MAX_RUNS})")
    parser.add_argument("--iters", type=int, default=200, help="iterations per method")
    parser.add_argument("--m", type=int, default=100)
    parser.add_argument("--methods", default="lasso-dct,lasso-wavelet", help="comma-separated (MNIST methods)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before remaining runs are cancelled")
    parser.add_argument("--pid", type=int, help="server PID for its memory (default: found from the port)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", choices=["reconstruct", "mixed", "maxima"], default="reconstruct",
                        help="reconstruct: --runs reconstructions per session; mixed: visitors in every tab with bad "
                             "inputs interleaved, for --seconds; maxima: each tab's heaviest request alone, its time "
                             "and the server's peak memory (ui.loadtest_mixed)")
    parser.add_argument("--seconds", type=float, default=120.0, help="mixed: how long the visitors keep going")
    parser.add_argument("--only", action="append", help="maxima: only this request (repeatable), e.g. 'sketch'")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    try:
        if args.profile == "maxima":
            from .loadtest_mixed import maxima
            print(json.dumps(maxima(args.url, args.pid, only=args.only), indent=1))
            return 0
        if args.profile == "mixed":
            from .loadtest_mixed import format_mixed, mixed_test
            summary = mixed_test(args.url, args.sessions, args.seconds, args.pid)
        else:
            settings = Settings(tuple(m.strip() for m in args.methods.split(",") if m.strip()), args.m, args.iters)
            summary = load_test(args.url, args.sessions, args.runs, settings, args.timeout, args.pid)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = format_mixed(summary) if args.profile == "mixed" else format_summary(summary)
    print(json.dumps(summary) if args.json else report)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
