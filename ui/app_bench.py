"""What the server costs: the four faces examples through ``gradio_client`` against a local server, beside the
same handler iterated in-process with the same settings; optionally one landscape and one sketch run.

    python -m ui.app_bench [--device auto|cpu|cuda] [--rounds 2] [--extras] [--json | --jsonl]

The server is ``demo_app.py`` in its own process on a free loopback port, as a booth serves it; the client and
the in-process handler take turns in this process, example by example (each round: through the API, then
in-process). The client fetches each image the server sends once, as a browser does, over one kept-alive
connection (``gradio_client``'s own downloads open a new connection, with a new TLS context, and a temporary
folder per file, a cost of the measuring client rather than of the server). Per example: seconds to ``done`` both ways (medians over the rounds), frames received through the
API and their rate (from the first update to the last; the lowest of the rounds), the CSGM solver's own seconds,
and whether both ways gave the same metrics.
``overhead_ratio`` = Σ API seconds ÷ Σ in-process seconds over the four examples. ``--jsonl`` prints each
record as it is measured (a caller that cuts the run keeps what was done), then the summary.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

ROOT = Path(__file__).resolve().parents[1]
FACES_METHODS = ("lasso-dct", "lasso-wavelet", "csgm-dcgan")  # the four faces examples: these methods, faces
EXTRAS = ("/landscape", "/sketch_train")  # one run each, at the form's defaults (the API fills them in)
SERVER_START_S = 180.0   # the server's import, priors and warm-up, at most
RUN_TIMEOUT_S = 300.0    # one example through the API, at most


def faces_examples(device: str) -> list[tuple[str, dict]]:
    """The four faces examples (Lasso-DCT + Lasso-wavelet + CSGM-DCGAN) as ``(label, {field: value})`` on
    ``device``: every field of /reconstruct that an example sets, as the page's example rows hold them."""
    from .reconstruct import examples, form
    rows, labels = examples()
    picked = []
    for label, row in zip(labels, rows):
        args = dict(zip(form.EXAMPLE_NAMES, row))
        if args["domain"] == "faces" and tuple(args["methods"]) == FACES_METHODS:
            picked.append((label, {**args, "device": device}))
    if len(picked) != 4:
        raise RuntimeError(f"expected four faces examples with {', '.join(FACES_METHODS)}; found {len(picked)}")
    return picked


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(log_path: Path):
    """``demo_app.py`` in a process of its own on a free loopback port; yields a connected ``Client``."""
    from gradio_client import Client

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "demo_app.py", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {proc.returncode}; see {log_path}")
            try:
                client = Client(url, verbose=False, download_files=False)  # ``through_api`` fetches the images
                break
            except Exception:  # noqa: BLE001 - not listening yet
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer within {SERVER_START_S:g} s; see {log_path}")
                time.sleep(0.5)
        yield client
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def table_rows(table) -> dict:
    """The final metrics table (the API's ``{"headers", "data"}`` or the handler's pandas Styler) →
    ``{method label: {column: value}}``."""
    if hasattr(table, "data"):  # a pandas Styler
        table = {"headers": list(table.data.columns), "data": table.data.values.tolist()}
    return {row[0]: dict(zip(table["headers"], row)) for row in table["data"]}


def file_urls(value) -> list[str]:
    """The URLs of the files in an update (Gradio's FileData dicts, within updates, lists and tuples)."""
    if isinstance(value, dict):
        if "url" in value and "path" in value:
            return [value["url"]]
        return [url for v in value.values() for url in file_urls(v)]
    if isinstance(value, (list, tuple)):
        return [url for v in value for url in file_urls(v)]
    return []


def through_api(client, args: dict) -> dict:
    """One run through /reconstruct: seconds from submitting to the final update (each image sent fetched once, as
    a browser fetches an image whose address changed), frames received, their rate from the first update to the
    last, and the images fetched."""
    import httpx
    started = time.perf_counter()
    job = client.submit(**args, api_name="/reconstruct")
    arrivals, last, fetched = [], None, set()
    with httpx.Client(timeout=RUN_TIMEOUT_S) as http:
        for update in job:
            for url in file_urls(update):
                if url not in fetched:
                    http.get(url).raise_for_status()
                    fetched.add(url)
            arrivals.append(time.perf_counter())
            last = update
            if arrivals[-1] - started > RUN_TIMEOUT_S:
                job.cancel()
                raise TimeoutError(f"no result within {RUN_TIMEOUT_S:g} s")
    seconds = time.perf_counter() - started
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    return {"seconds": seconds, "frames": len(arrivals), "frames_per_s": rate, "images": len(fetched),
            "status": last[0], "table": table_rows(last[-1])}


def in_process(args: dict) -> dict:
    """The same run, the handler iterated in this process (no Gradio between frames)."""
    from .reconstruct.handlers import reconstruct
    started = time.perf_counter()
    frames, last = 0, None
    for update in reconstruct(**args):
        frames, last = frames + 1, update
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "frames": frames, "status": last[0], "table": table_rows(last[-1])}


def same_metrics(a: dict, b: dict, rel: float = 1e-6) -> bool:
    keys = ("MSE [0,1]", "PSNR dB", "SSIM", "iters")
    return set(a) == set(b) and all(math.isclose(float(a[k][c]), float(b[k][c]), rel_tol=rel, abs_tol=1e-9)
                                    for k in a for c in keys)


def measure_example(client, label: str, args: dict, rounds: int) -> dict:
    """``rounds`` × (through the API, then in-process); medians, and the runs' own numbers."""
    from cs_core.solvers import METHODS
    api, local = [], []
    for _ in range(rounds):
        api.append(through_api(client, args))
        local.append(in_process(args))
    api_s = statistics.median(r["seconds"] for r in api)
    local_s = statistics.median(r["seconds"] for r in local)
    csgm = METHODS["csgm-dcgan"].label
    return {"label": label, "operator": args["operator"], "asset": args["asset"], "m": args["m"],
            "api_s": api_s, "in_process_s": local_s, "ratio": api_s / local_s,
            "api_samples_s": [r["seconds"] for r in api], "in_process_samples_s": [r["seconds"] for r in local],
            "frames": [r["frames"] for r in api], "frames_per_s": min(r["frames_per_s"] for r in api),
            "images": [r["images"] for r in api],
            "done": all(r["status"].endswith("done") for r in api + local),
            "same_metrics": all(same_metrics(a["table"], b["table"]) for a, b in zip(api, local)),
            "csgm_solver_s": [float(r["table"][csgm]["seconds"]) for r in api if csgm in r["table"]]}


def run_extra(client, api_name: str) -> dict:
    """One run of another tab's streaming endpoint at its form's defaults: seconds, frames, final status."""
    started = time.perf_counter()
    job = client.submit(api_name=api_name)
    frames, last = 0, None
    for update in job:
        frames, last = frames + 1, update
    status = next((v for v in (last or ()) if isinstance(v, str) and ("done" in v or "stopped" in v)), "")
    return {"api_name": api_name, "seconds": time.perf_counter() - started, "frames": frames, "status": status,
            "done": status.endswith("done")}


def run_app_bench(device: str = "auto", rounds: int = 2, extras: bool = False, emit=None) -> dict:
    """Start the server, warm both ways up on the first example, measure the four examples (and the extras);
    ``emit(record)`` is called with each record as it is measured."""
    from dataclasses import asdict

    from cs_core.devices import resolve_device
    from cs_core.experiments.bench.snapshot import machine

    from . import common

    emit = emit or (lambda record: None)
    dev = resolve_device(device)
    examples = faces_examples(device)
    common.load_priors(dev)
    common.warm_up(dev)
    log = Path(tempfile.mkdtemp(prefix="csgm-app-bench-")) / "server.log"
    started = time.perf_counter()
    with server(log) as client:
        emit({"event": "server", "seconds": time.perf_counter() - started})
        through_api(client, examples[0][1])  # the server's and this process's first runs pay one-time costs
        in_process(examples[0][1])
        measured = []
        for label, args in examples:
            measured.append(measure_example(client, label, args, rounds))
            emit({"event": "example", **measured[-1]})
        others = []
        for api_name in EXTRAS if extras else ():
            others.append(run_extra(client, api_name))
            emit({"event": "extra", **others[-1]})
    api_total = sum(e["api_s"] for e in measured)
    local_total = sum(e["in_process_s"] for e in measured)
    return {"machine": asdict(machine(dev)), "app": {
        "overhead_ratio": api_total / local_total, "examples": measured, "rounds": rounds, "device": device,
        "api_total_s": api_total, "in_process_total_s": local_total, "extras": others,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}}


def format_report(result: dict) -> str:
    a = result["app"]
    lines = [f"The faces examples through the API against the handler in-process (device {a['device']}, medians of "
             f"{a['rounds']} rounds, OMP_NUM_THREADS={a['omp_num_threads']}):", "",
             "| example | API s | in-process s | ratio | frames (per s) | CSGM solver s | same metrics |",
             "|---|---|---|---|---|---|---|"]
    for e in a["examples"]:
        lines.append(f"| {e['label']} | {e['api_s']:.2f} | {e['in_process_s']:.2f} | {e['ratio']:.2f} | "
                     f"{', '.join(map(str, e['frames']))} ({e['frames_per_s']:.1f}) | "
                     f"{', '.join(f'{s:.2f}' for s in e['csgm_solver_s'])} | {'yes' if e['same_metrics'] else 'NO'} |")
    lines += ["", f"Overhead ratio (Σ API ÷ Σ in-process): **{a['overhead_ratio']:.2f}** "
                  f"({a['api_total_s']:.1f} s ÷ {a['in_process_total_s']:.1f} s)"]
    lines += [f"{x['api_name']}: {x['seconds']:.2f} s, {x['frames']} frames, {x['status'] or 'no status'}"
              for x in a["extras"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.app_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--rounds", type=int, default=2, help="API + in-process runs per example (medians)")
    parser.add_argument("--extras", action="store_true", help="also one landscape and one sketch run")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--jsonl", action="store_true", help="print each record as measured, then the summary")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        print(f"error: --rounds must be ≥ 1; got {args.rounds}", file=sys.stderr)
        return 2
    emit = (lambda record: print(json.dumps(record), flush=True)) if args.jsonl else None
    result = run_app_bench(args.device, args.rounds, args.extras, emit)
    print(json.dumps(result) if args.json or args.jsonl else format_report(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
