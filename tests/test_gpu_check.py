"""The booth's GPU check (ui/gpu_check.py, ``make gpu-check``): one line without CUDA; on the CPU, with tight
budgets, a record of every step in which a slow step is cut at its budget and the others still run."""
import json
import shutil
import subprocess
import sys

import pytest
import torch
from helpers import ROOT

from ui import gpu_check

pytestmark = pytest.mark.timeout(300)
NO_CUDA = not torch.cuda.is_available() and shutil.which("nvidia-smi") is None


@pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")
@pytest.mark.parametrize("command", [[sys.executable, "-m", "ui.gpu_check"], ["make", "-s", "gpu-check"]],
                         ids=["driver", "make"])
def test_without_cuda_it_says_so_in_one_line_and_exits_0(command):
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and "no CUDA device" in lines[0], done.stdout


def test_targets_are_met_or_not_on_their_numbers():
    def steps(csgm, first, api, speedup, fps, ratio):
        examples = [{"csgm_solver_s": [0.1, csgm], "api_s": a, "frames_per_s": f} for a, f in zip(api, fps)]
        return {"bench": {"data": {"first_snapshot": {"faces": {"first_frame_s": first}},
                                   "lasso": {"batch": {"speedup_per_image_working_set": speedup}}}},
                "app": {"data": {"app": {"examples": examples, "overhead_ratio": ratio}}}}

    met = [t["met"] for t in gpu_check.evaluate(steps(0.49, 0.099, [1.2, 1.99], 20.0, [9.0, 8.0], 1.3), "cuda")]
    assert met == [True] * 6
    missed = gpu_check.evaluate(steps(0.51, 0.1, [1.2, 2.01], 19.9, [9.0, 7.9], 1.31), "cuda")
    assert [t["met"] for t in missed] == [False] * 6
    # the worst example decides: the slowest API run, the lowest frame rate, the slowest CSGM
    assert [t["value"] for t in missed] == [0.51, 0.1, 2.01, 19.9, 7.9, 1.31]
    # 3 frames a second suffice on a CPU
    assert gpu_check.evaluate(steps(0.51, 0.1, [1.2, 2.01], 19.9, [3.0, 7.9], 1.31), "cpu")[4]["met"] is True
    # a step that was cut leaves its targets not measured
    assert all(t["value"] is None and t["met"] is None for t in gpu_check.evaluate({}, "cuda"))


def test_a_cut_app_run_keeps_the_examples_it_printed():
    lines = [json.dumps({"event": "server", "seconds": 9.0}), "not json",
             json.dumps({"event": "example", "label": "a", "api_s": 1.0}),
             json.dumps({"event": "extra", "api_name": "/landscape", "seconds": 2.0})]
    app = gpu_check.parse_app("\n".join(lines))["app"]
    assert [e["label"] for e in app["examples"]] == ["a"] and app["extras"][0]["api_name"] == "/landscape"
    summary = {"app": {"overhead_ratio": 1.1, "examples": []}}
    assert gpu_check.parse_app("\n".join([*lines, json.dumps(summary)])) == summary


@pytest.mark.server
def test_on_the_cpu_a_slow_step_is_cut_at_its_budget_and_the_others_run(tmp_path):
    budgets = {"bench": 3.0, "app": 4.0}
    done = subprocess.run([sys.executable, "-m", "ui.gpu_check", "--device", "cpu", "--quick", "--select", "test_bases",
                           "--budget", "tests=200", *[f"--budget={k}={v}" for k, v in budgets.items()],
                           "--out", str(tmp_path), "--date", "2000-01-01"],
                          cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 1, done.stdout + done.stderr  # steps were cut
    record = json.loads((tmp_path / "cpu-2000-01-01.json").read_text())
    steps = {s["name"]: s for s in record["steps"]}
    assert list(steps) == ["tests", "bench", "app"]
    tests = steps["tests"]
    assert tests["status"] == "passed" and tests["data"]["counts"].get("passed", 0) >= 5, tests["output_tail"]
    assert not tests["data"]["failed"]
    for name, budget in budgets.items():
        assert steps[name]["status"] == "cut"
        assert budget <= steps[name]["seconds"] < budget + 6  # stopped at its budget, with a few seconds' grace
    assert not record["ok"] and all(t["met"] is None for t in record["targets"])
    summary = (tmp_path / "cpu-2000-01-01.md").read_text()
    assert "| tests | passed |" in summary and "| bench | cut |" in summary and "| app | cut |" in summary
    assert summary.count("not measured") == len(record["targets"])
