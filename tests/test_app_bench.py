"""``python -m cs_core bench --app``: the four faces examples through the app's API (a server of its own) beside the
same handler in-process; the JSON's "app" record, on which outside scripts rely."""
import json
import subprocess
import sys

import pytest
from helpers import ROOT

pytestmark = pytest.mark.timeout(600)


@pytest.mark.server
def test_bench_app_reports_the_four_faces_examples_both_ways():
    done = subprocess.run([sys.executable, "-m", "cs_core", "bench", "--app", "--quick", "--device", "cpu", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=580)
    assert done.returncode == 0, done.stderr[-3000:]
    app = json.loads(done.stdout)["app"]
    examples = app["examples"]
    assert [e["operator"] for e in examples] == ["gaussian", "inpaint", "superres", "gaussian"]
    for e in examples:
        assert e["done"], e["label"]
        assert e["same_metrics"], f"{e['label']}: the API and the handler in-process disagree"
        assert min(e["frames"]) >= 5, e  # the start, at least three live frames, the final one
        assert min(e["images"]) >= 5, e  # each fetched once: the truth, the sensor view, three methods' at least
        assert e["ratio"] == pytest.approx(e["api_s"] / e["in_process_s"])
    total_api = sum(e["api_s"] for e in examples)
    assert app["overhead_ratio"] == pytest.approx(total_api / sum(e["in_process_s"] for e in examples))
    assert app["overhead_ratio"] > 0.5  # the same work both ways: through the API it cannot take half the time


def test_bench_app_without_a_gpu_is_a_one_line_error():
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    done = subprocess.run([sys.executable, "-m", "cs_core", "bench", "--app", "--device", "cuda"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: ") and len(done.stderr.strip().splitlines()) == 1, done.stderr
