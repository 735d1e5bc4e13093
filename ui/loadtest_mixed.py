"""The load test's mixed profile: visitors in every tab at once, with bad inputs interleaved.

    python -m ui.loadtest --url http://127.0.0.1:7860/ --profile mixed [--sessions 8] [--seconds 120]

Visitor i works in the tab ``TABS[i % 4]`` (Reconstruct, Landscape, Sketch, Sweep) with its own ``gradio_client``
session until ``--seconds`` have passed: a request of that tab (its settings fixed, the seed one of two of the
visitor's), then a bad request (a wrong type or a value beyond the widget's range) that must come back as an
error. Reported per tab: requests, p50/p95 latency, failures, bad requests answered with an error; the server's
memory before, at its peak and after. Cross-talk: afterwards every distinct request is run again alone, and its
result (the metrics table, the status line less its timings) must equal what it gave under load.
"""
from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .loadtest import MemoryWatch, Settings, check_loopback, client_arguments, rss_mib, server_pid, table_metrics

TABS = ("reconstruct", "landscape", "sketch", "sweep")
MAX_SECONDS = 1800
TIMINGS = re.compile(r" · [0-9.]+ s(?= ·|$)")  # "· 3.2 s" in a status line


def good_request(tab: str, seed: int) -> tuple[str, list | dict]:
    """(api name, arguments) of the tab's request in this profile: light settings, a few seconds alone."""
    if tab == "reconstruct":
        return "/reconstruct", client_arguments(Settings(iterations=100), seed)
    if tab == "landscape":
        return "/landscape", ["2 layers, wide", 200, 0.0, 32, "gd", 100, seed]
    if tab == "sketch":
        return "/sketch_train", ["spiral", 100, "gaussian", 100, seed, None, None]
    return "/sweep", ["mnist", ["lasso-dct"], [25, 100], 2, "heldout"] if seed % 2 else \
        ["mnist", ["lasso-pixel"], [50], 2, "heldout"]


def bad_request(tab: str, seed: int) -> tuple[str, list | dict]:
    """The same request with one field wrong (a type or a value beyond its widget's range)."""
    api, args = good_request(tab, seed)
    if tab == "reconstruct":
        return api, {**args, "m": 100_000}  # more measurements than pixels
    wrong = {"landscape": (3, 1.5), "sketch": (3, 1e30), "sweep": (3, 0)}[tab]
    args = list(args)
    args[wrong[0]] = wrong[1]
    return api, args


def result_of(tab: str, outputs) -> object:
    """What must not depend on the load: the metrics (Reconstruct), the sweep's table, else the status line
    less its timings."""
    if tab == "reconstruct":
        return table_metrics(outputs[-1])
    if tab == "sweep":
        return outputs[2]["data"]
    status = str(outputs[-1] if tab == "sketch" else outputs[0])
    return TIMINGS.sub("", status)


def _status(tab: str, outputs) -> str:
    return str(outputs[-1] if tab == "sketch" else outputs[0])


@dataclass
class Request:
    tab: str
    seed: int
    seconds: float = 0.0
    result: object = None
    error: str = ""
    bad_answered: bool | None = None  # the bad request that followed: an error came back (True) or not


def call(client, tab: str, seed: int) -> tuple[object, str]:
    """One good request: (its result, "" or what went wrong)."""
    api, args = good_request(tab, seed)
    try:
        outputs = client.predict(**args, api_name=api) if isinstance(args, dict) else \
            client.predict(*args, api_name=api)
    except Exception as exc:  # noqa: BLE001 - counted and reported
        return None, f"{type(exc).__name__}: {exc}"
    status = _status(tab, outputs)
    if not status.endswith("done"):
        return None, f"ended with status {status!r}"
    return result_of(tab, outputs), ""


def visitor(url: str, index: int, deadline: float) -> list[Request]:
    """One visitor: its tab's request and a bad one, in turn, until the deadline."""
    from gradio_client import Client

    tab, client, done, k = TABS[index % len(TABS)], None, [], 0
    client = Client(url, verbose=False, download_files=False)
    while time.monotonic() < deadline:
        request = Request(tab, 100 * index + k % 2)
        started = time.perf_counter()
        request.result, request.error = call(client, tab, request.seed)
        request.seconds = time.perf_counter() - started
        api, args = bad_request(tab, request.seed)
        try:
            client.predict(**args, api_name=api) if isinstance(args, dict) else client.predict(*args, api_name=api)
            request.bad_answered = False
        except Exception:  # noqa: BLE001 - the error is the expected answer
            request.bad_answered = True
        done.append(request)
        k += 1
    return done


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def mixed_test(url: str, sessions: int = 8, seconds: float = 120.0, pid: int | None = None,
               settle: float = 3.0) -> dict:
    """Run the mixed profile; the summary (see the module's docstring)."""
    from gradio_client import Client

    from cs_core.errors import InputError
    check_loopback(url)
    if not 1 <= sessions <= 32:
        raise InputError(f"--sessions must be from 1 to 32; got {sessions}")
    if not 1 <= seconds <= MAX_SECONDS:
        raise InputError(f"--seconds must be from 1 to {MAX_SECONDS}; got {seconds:g}")
    pid = pid if pid is not None else server_pid(url)
    warm = Client(url, verbose=False, download_files=False)
    for tab in TABS:  # the baseline includes each tab's one-time allocations
        _, error = call(warm, tab, 0)
        if error:
            raise RuntimeError(f"the warm-up request of {tab} failed: {error}")
    time.sleep(settle)
    before = rss_mib(pid)
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    with MemoryWatch(pid) as watch, ThreadPoolExecutor(sessions) as pool:
        futures = [pool.submit(visitor, url, i, deadline) for i in range(sessions)]
        requests = [r for f in futures for r in f.result()]
    wall = time.perf_counter() - started
    time.sleep(settle)
    after = rss_mib(pid)

    alone = {}
    for key in sorted({(r.tab, r.seed) for r in requests if not r.error}):
        alone[key], _ = call(warm, *key)
    mismatched = [f"{r.tab} seed {r.seed}" for r in requests if not r.error and r.result != alone[(r.tab, r.seed)]]
    tabs = {}
    for tab in TABS:
        mine = [r for r in requests if r.tab == tab]
        latencies = [r.seconds for r in mine if not r.error]
        tabs[tab] = {"requests": len(mine), "failures": [r.error for r in mine if r.error],
                     "p50_s": _percentile(latencies, 50), "p95_s": _percentile(latencies, 95),
                     "bad_requests": len(mine), "bad_answered": sum(bool(r.bad_answered) for r in mine)}
    failures = sum(len(t["failures"]) for t in tabs.values())
    unanswered = sum(t["bad_requests"] - t["bad_answered"] for t in tabs.values())
    return {"url": url, "profile": "mixed", "sessions": sessions, "seconds": seconds, "wall_s": wall,
            "tabs": tabs, "mismatched": sorted(set(mismatched)), "server_pid": pid,
            "rss_before_mib": before, "rss_peak_mib": watch.peak, "rss_after_mib": after,
            "ok": failures == 0 and unanswered == 0 and not mismatched and all(t["requests"] for t in tabs.values())}


def maxima_requests() -> dict[str, tuple[str, str, list | dict]]:
    """Each tab's heaviest request a visitor can set (the widgets' maxima; for Reconstruct, the largest m its memory
    budget allows and the most iterations its planned-time budget allows): name → (tab, api, arguments)."""
    from cs_core.experiments.paper import PAPER_M
    from cs_core.run_budget import largest, max_gaussian_m
    from cs_core.solvers import Options
    from cs_core.tab_settings import LANDSCAPE, LANDSCAPE_PHASE, LANDSCAPE_SLICE, SKETCH, SWEEP_OFFER, offered_ms, row

    from .common import max_seconds

    def top(rows, name):
        return row(rows, name).high

    def faces(methods, m, iterations=None):
        settings = Settings(methods, m, None, 0.0, "face-gen-seed-1000")
        return {**client_arguments(settings, 0), "domain": "faces", "iterations": iterations}
    three, posterior, untrained = ("lasso-dct", "lasso-wavelet", "csgm-dcgan"), ("posterior-dcgan",), ("dip", "tv")
    longest = largest("iterations", "faces", 100, ["csgm-dcgan"], Options(), max_seconds())
    return {
        "reconstruct (faces, 3 methods, the largest m)": ("reconstruct", "/reconstruct",
                                                          faces(three, max_gaussian_m("faces", three))),
        "reconstruct (faces, posterior samples, the largest m)": ("reconstruct", "/reconstruct",
                                                                  faces(posterior, max_gaussian_m("faces", posterior))),
        "reconstruct (faces, DIP and TV, the largest m)": ("reconstruct", "/reconstruct",
                                                          faces(untrained, max_gaussian_m("faces", untrained))),
        "reconstruct (faces, CSGM, the most iterations allowed)": ("reconstruct", "/reconstruct",
                                                                   faces(("csgm-dcgan",), 100, str(longest))),
        "landscape descent": ("landscape", "/landscape", [
            "3 layers", top(LANDSCAPE, "m"), 0.2, top(LANDSCAPE, "starts"), "adam", top(LANDSCAPE, "steps"), 0]),
        "landscape phase": ("landscape", "/landscape_phase", ["3 layers", top(LANDSCAPE_PHASE, "steps"), 0]),
        "landscape slice (dcgan)": ("landscape", "/landscape_slice", ["dcgan", top(LANDSCAPE_SLICE, "m"),
                                                                       top(LANDSCAPE_SLICE, "restarts"), 0]),
        "sketch": ("sketch", "/sketch", ["spiral", top(SKETCH, "m"), "gaussian", 0, None, None]),
        "sketch train": ("sketch", "/sketch_train", ["spiral", top(SKETCH, "m"), "gaussian", top(SKETCH, "steps"), 0,
                                                     None, None]),
        **{f"sweep ({domain}: every offered method, m and image)": ("sweep", "/sweep", [
            domain, list(offer.methods), list(offered_ms(domain, PAPER_M)), offer.images,
            "heldout" if domain == "mnist" else "inrange"]) for domain, offer in SWEEP_OFFER.items()},
    }


def maxima(url: str, pid: int | None = None, settle: float = 3.0, only: list[str] | None = None) -> dict:
    """Each tab's heaviest request alone (or those named in ``only``), after one light request of every tab (so
    that one-time imports and caches are not counted): its wall time, final status, the server's resident memory
    before it and at its peak (sampled every 20 ms), and the difference."""
    from gradio_client import Client

    from cs_core.errors import InputError
    check_loopback(url)
    heavy = maxima_requests()
    unknown = set(only or ()) - set(heavy)
    if unknown:
        raise InputError(f"--only: unknown request {sorted(unknown)[0]!r}; choose from {', '.join(heavy)}")
    pid = pid if pid is not None else server_pid(url)
    client, out = Client(url, verbose=False, download_files=False), {}
    for tab in TABS:
        call(client, tab, 0)
    client.predict("spiral", 10, "gaussian", 0, None, None, api_name="/sketch")
    for name, (tab, api, args) in heavy.items():
        if only and name not in only:
            continue
        time.sleep(settle)
        before, started = rss_mib(pid), time.perf_counter()
        with MemoryWatch(pid, interval=0.02) as watch:
            try:
                outputs = client.predict(**args, api_name=api) if isinstance(args, dict) else \
                    client.predict(*args, api_name=api)
                status = "done" if api == "/sketch" else _status(tab, outputs)
            except Exception as exc:  # noqa: BLE001 - reported
                status = f"{type(exc).__name__}: {exc}"
        out[name] = {"seconds": time.perf_counter() - started, "status": status[-160:], "rss_before_mib": before,
                     "rss_peak_mib": watch.peak,
                     "added_mib": None if before is None or watch.peak is None else watch.peak - before}
    return out


def format_mixed(s: dict) -> str:
    def mib(v):
        return "unknown" if v is None else f"{v:.0f} MiB"
    lines = [f"mixed load test of {s['url']}: {s['sessions']} visitors for {s['seconds']:g} s "
             f"(wall {s['wall_s']:.1f} s)",
             f"{'tab':<12} {'requests':>8} {'failures':>8} {'p50 s':>7} {'p95 s':>7} {'bad answered':>13}"]
    for tab, t in s["tabs"].items():
        lines.append(f"{tab:<12} {t['requests']:>8} {len(t['failures']):>8} {t['p50_s']:>7.2f} {t['p95_s']:>7.2f} "
                     f"{t['bad_answered']:>6}/{t['bad_requests']:<6}")
        lines += [f"  failed: {f}" for f in t["failures"]]
    lines.append(f"server memory (pid {s['server_pid']}): before {mib(s['rss_before_mib'])} · peak "
                 f"{mib(s['rss_peak_mib'])} · after {mib(s['rss_after_mib'])}")
    lines += [f"  differs from alone: {m}" for m in s["mismatched"]]
    lines.append("OK" if s["ok"] else "FAILED")
    return "\n".join(lines)
