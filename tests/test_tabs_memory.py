"""Bounded memory: the sketch at its largest m in a fresh process, and the sketch and Reconstruct at their
largest settings through the API of the demo served in a process of its own, its resident memory sampled."""
import os
import subprocess
import sys

import pytest
from helpers import ROOT


def test_the_sketch_adds_at_most_256_mib_at_the_largest_m():
    """At the core's and the CLI's largest m, 20 000 points and the density image (in a fresh process)."""
    code = """
import resource, sys
sys.path.insert(0, ".")
from ui import sketch
from cs_core.sketching.learn import MAX_M
sketch.do_sketch("spiral", 10, "gaussian", 0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from cs_core.sketching import learn
from dataclasses import replace
train, heldout = learn.toy("spiral", learn.DEFAULT, 0)
prepared = learn.prepare(train, heldout, replace(learn.DEFAULT, m=5000), 0)
from cs_core.sketching.figures import density_image
density_image({"sketch": prepared.sketch, "omega": prepared.omega})
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"OMP_NUM_THREADS": "1", "GRADIO_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin"})
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip().splitlines()[-1]) < 256


@pytest.fixture(scope="module")
def server_process(served):
    """The demo in a process of its own, as it is served: (its URL, its PID), for its memory."""
    with served({**os.environ, "OMP_NUM_THREADS": "1", "GRADIO_ANALYTICS_ENABLED": "False"}) as (url, proc):
        yield url, proc.pid


@pytest.mark.server
@pytest.mark.timeout(900)
def test_one_sketch_at_the_largest_m_adds_at_most_256_mib_to_the_server(server_process):
    """Through the API of a served app, its resident memory sampled every 20 ms (the handler runs in a worker
    thread, where glibc's malloc arenas used to keep and fragment its tensors: +460–540 MiB)."""
    from ui.loadtest_mixed import maxima
    url, pid = server_process
    result = maxima(url, pid, settle=1.0, only=["sketch"])["sketch"]
    assert result["status"] == "done" and result["rss_before_mib"] > 100, result
    assert result["added_mib"] <= 256, result


@pytest.mark.server
@pytest.mark.timeout(900)
def test_reconstruct_at_its_largest_m_adds_at_most_256_mib_to_the_server(server_process):
    """Faces, two Lasso bases and CSGM at the largest m the memory budget allows them (A and two copies of it,
    cs_core/run_budget.py); faces m = 10 000 used to add 920 MiB."""
    from ui.loadtest_mixed import maxima
    url, pid = server_process
    name = "reconstruct (faces, 3 methods, the largest m)"
    result = maxima(url, pid, settle=1.0, only=[name])[name]
    assert result["status"].endswith("done") and result["rss_before_mib"] > 100, result
    assert result["added_mib"] <= 256, result
