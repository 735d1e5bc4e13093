"""The booth's GPU check in one command (``make gpu-check``): tests, bench and the app on the device, each step
under a hard time budget, and a record of what passed, failed or was cut, with the demo's GPU targets.

    python -m ui.gpu_check [--device cuda|cpu] [--budget-scale X] [--budget STEP=S ...] [--quick]
                           [--select EXPR] [--out docs/bench] [--date YYYY-MM-DD]

Steps, each a process of its own, stopped (with everything it started) when it outlasts its budget:

- ``tests``: every test that takes the ``device`` fixture, on the device (``pytest -k <device>``);
- ``bench``: ``python -m cs_core bench --device <device> --json``;
- ``app``: ``python -m ui.app_bench --device <device> --extras --jsonl``: the four faces examples through
  ``gradio_client`` against a local server beside the handler in-process, then one landscape and one sketch run.

The budgets add up to at most ``TOTAL_S`` (8 minutes); ``--budget-scale`` scales them all (tiny ones exercise the
mechanism on a CPU). Writes ``<out>/<device>-<date>.json`` and ``.md``: per step its status (passed, failed, cut),
seconds and budget, and each target met or not with its number. Without CUDA (``--device cuda``, the default)
it prints one line and exits 0; otherwise it exits 0 when every step passed, 1 if not.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOTAL_S = 480.0  # the whole check, at scale 1
BUDGETS = {"tests": 180.0, "bench": 150.0, "app": 140.0}  # seconds per step at scale 1 (they add up to ≤ TOTAL_S)
TAIL = 3000  # characters of a step's output kept in the record
TEST_LINE = re.compile(r"^(\S+::\S+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")


def step_commands(device: str, quick: bool, select: str | None) -> dict[str, list[str]]:
    """The command of each step (run from the repository's root), in the order they run."""
    py = sys.executable
    k = device if not select else f"({device}) and ({select})"
    return {
        "tests": [py, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-k", k, "tests"],
        "bench": [py, "-m", "cs_core", "bench", "--device", device, "--json", *(["--quick", "--repeats", "1"]
                                                                                if quick else [])],
        "app": [py, "-m", "ui.app_bench", "--device", device, "--extras", "--jsonl", "--rounds", "1" if quick else "2"],
    }


def parse_tests(stdout: str) -> dict:
    """pytest -v's lines → counts per outcome and the ids that failed (also from a run that was cut)."""
    counts, failed = {}, []
    for line in stdout.splitlines():
        match = TEST_LINE.match(line)
        if match:
            counts[match[2].lower()] = counts.get(match[2].lower(), 0) + 1
            if match[2] in ("FAILED", "ERROR"):
                failed.append(match[1])
    return {"counts": counts, "failed": failed}


def _json_lines(stdout: str) -> list[dict]:
    records = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return records


def parse_bench(stdout: str) -> dict:
    records = _json_lines(stdout)
    return records[-1] if records else {}


def parse_app(stdout: str) -> dict:
    """app_bench's records as they came (a cut run keeps those it printed), and its summary if it got there."""
    records = _json_lines(stdout)
    summary = next((r for r in records if "app" in r), None)
    if summary is not None:
        return summary
    return {"app": {"examples": [r for r in records if r.get("event") == "example"],
                    "extras": [r for r in records if r.get("event") == "extra"]}}


PARSERS = {"tests": parse_tests, "bench": parse_bench, "app": parse_app}


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    """End a step's process group (SIGTERM, then SIGKILL after 5 s); what it had printed."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            return proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            continue
    return proc.communicate()


def run_step(name: str, command: list[str], budget: float, env: dict) -> dict:
    """Run one step under ``budget`` seconds; past it, its whole process group is stopped and the step is cut."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    cut = False
    try:
        stdout, stderr = proc.communicate(timeout=max(budget, 0.0))
    except subprocess.TimeoutExpired:
        cut = True
        stdout, stderr = _stop(proc)
    seconds = time.perf_counter() - started
    status = "cut" if cut else "passed" if proc.returncode == 0 else "failed"
    return {"name": name, "command": " ".join(command[1:]), "budget_s": budget, "seconds": seconds, "status": status,
            "returncode": proc.returncode, "data": PARSERS[name](stdout or ""),
            "output_tail": ((stdout or "") + (stderr or ""))[-TAIL:]}


# ---------------------------------------------------------------- the targets

def _get(data: dict, *keys):
    for key in keys:
        if not isinstance(data, dict) or data.get(key) is None:
            return None
        data = data[key]
    return data


def _worst(values, pick=max):
    values = [v for v in values if v is not None]
    return pick(values) if values else None


@dataclass(frozen=True)
class Target:
    what: str
    goal: str
    value: object   # steps' data → the number, or None when not measured
    met: object     # number → bool


def targets(device: str) -> list[Target]:
    """The demo's speed targets on ``device`` (the issue's GPU targets; live frame rate 8/s on a GPU, 3/s on a CPU)."""
    min_fps = 8.0 if device == "cuda" else 3.0
    examples = lambda s: _get(s, "app", "data", "app", "examples") or []  # noqa: E731
    return [
        Target("faces CSGM run, default settings: solver s, worst of the four examples", "< 0.5 s",
               lambda s: _worst(v for e in examples(s) for v in e.get("csgm_solver_s", [])), lambda v: v < 0.5),
        Target("first frame, faces (bench)", "< 0.1 s",
               lambda s: _get(s, "bench", "data", "first_snapshot", "faces", "first_frame_s"), lambda v: v < 0.1),
        Target("a faces example end to end through the API, worst of the four", "< 2 s",
               lambda s: _worst(e.get("api_s") for e in examples(s)), lambda v: v < 2.0),
        Target("FISTA batch of 16 vs scikit-learn, per image (bench)", "≥ 20×",
               lambda s: _get(s, "bench", "data", "lasso", "batch", "speedup_per_image_working_set"),
               lambda v: v >= 20.0),
        Target("frames a second through the API, lowest of the four", f"≥ {min_fps:g}",
               lambda s: _worst((e.get("frames_per_s") for e in examples(s)), min), lambda v: v >= min_fps),
        Target("server overhead: Σ API ÷ Σ in-process, four examples", "≤ 1.3",
               lambda s: _get(s, "app", "data", "app", "overhead_ratio"), lambda v: v <= 1.3),
    ]


def evaluate(steps: dict, device: str) -> list[dict]:
    out = []
    for t in targets(device):
        value = t.value(steps)
        out.append({"target": t.what, "goal": t.goal, "value": value, "met": None if value is None else t.met(value)})
    return out


# ---------------------------------------------------------------- the record

def _number(v) -> str:
    return "—" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)


def _detail(step: dict) -> str:
    data = step["data"]
    if step["name"] == "tests":
        counts = ", ".join(f"{n} {k}" for k, n in sorted(data.get("counts", {}).items())) or "no test reported"
        return counts + (f"; failed: {', '.join(data['failed'])}" if data.get("failed") else "")
    if step["name"] == "bench":
        return f"whole bench {_number(data.get('wall_s'))} s" if data else "no result"
    app = data.get("app", {})
    parts = [f"{len(app.get('examples', []))} of 4 examples"]
    parts += [f"{x['api_name']} {x['seconds']:.1f} s {'done' if x.get('done') else 'not done'}"
              for x in app.get("extras", [])]
    return ", ".join(parts)


def summary_markdown(record: dict) -> str:
    lines = [f"# {record['device_name']} check, {record['date']}", "",
             f"Commit {record['commit']}, torch {record['torch']}, {record['seconds']:.0f} s in all "
             f"(budget {record['total_budget_s']:.0f} s).", "",
             "| step | status | seconds | budget s | detail |", "|---|---|---|---|---|"]
    for s in record["steps"]:
        lines.append(f"| {s['name']} | {s['status']} | {s['seconds']:.1f} | {s['budget_s']:.3g} | {_detail(s)} |")
    lines += ["", "| target | goal | measured | met |", "|---|---|---|---|"]
    for t in record["targets"]:
        met = "not measured" if t["met"] is None else "met" if t["met"] else "not met"
        lines.append(f"| {t['target']} | {t['goal']} | {_number(t['value'])} | {met} |")
    return "\n".join(lines) + "\n"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def gpu_check(device: str, out: Path, date: str, scale: float = 1.0, budgets: dict | None = None,
              quick: bool = False, select: str | None = None) -> dict:
    """Run the steps in turn within their budgets (and the whole within ``TOTAL_S × scale``); write the record."""
    import torch

    from cs_core.devices import describe_device

    budgets = {**{k: v * scale for k, v in BUDGETS.items()}, **(budgets or {})}
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1,localhost",
           "PYTHONUNBUFFERED": "1"}
    total = TOTAL_S * scale
    started = time.perf_counter()
    steps = {}
    for name, command in step_commands(device, quick, select).items():
        left = total - (time.perf_counter() - started)
        steps[name] = run_step(name, command, min(budgets[name], left), env)
        print(f"gpu-check: {name} {steps[name]['status']} in {steps[name]['seconds']:.1f} s "
              f"(budget {steps[name]['budget_s']:.3g} s)", flush=True)
    record = {"device": device, "device_name": describe_device(torch.device(device)), "date": date,
              "commit": _commit(), "torch": torch.__version__, "total_budget_s": total,
              "seconds": time.perf_counter() - started, "steps": list(steps.values()),
              "targets": evaluate(steps, device), "ok": all(s["status"] == "passed" for s in steps.values())}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{device}-{date}.json").write_text(json.dumps(record, indent=1) + "\n")
    (out / f"{device}-{date}.md").write_text(summary_markdown(record))
    return record


def _budget(text: str) -> tuple[str, float]:
    name, _, seconds = text.partition("=")
    if name not in BUDGETS or not seconds:
        raise argparse.ArgumentTypeError(f"--budget must be STEP=SECONDS with STEP one of {', '.join(BUDGETS)}")
    return name, float(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.gpu_check", description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--budget-scale", type=float, default=1.0, help="scale every step's budget (default 1)")
    parser.add_argument("--budget", type=_budget, action="append", default=[], metavar="STEP=S",
                        help="one step's budget in seconds (after scaling the others)")
    parser.add_argument("--quick", action="store_true", help="the bench's quick mode, one round of the app")
    parser.add_argument("--select", help="also restrict the tests step to pytest -k EXPR")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench")
    parser.add_argument("--date", default=dt.datetime.now(dt.timezone.utc).date().isoformat())
    args = parser.parse_args(argv)
    if not args.budget_scale > 0:
        print(f"error: --budget-scale must be > 0; got {args.budget_scale}", file=sys.stderr)
        return 2
    import torch
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"gpu-check: no CUDA device on this machine (torch {torch.__version__}); nothing to check")
        return 0
    record = gpu_check(args.device, args.out, args.date, args.budget_scale, dict(args.budget), args.quick,
                       args.select)
    print(f"gpu-check: {'all steps passed' if record['ok'] else 'some steps failed or were cut'}; "
          f"{args.out / f'{args.device}-{args.date}.md'}")
    return 0 if record["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
