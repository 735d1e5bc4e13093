"""The benchmark runs end to end in quick mode and reports a well-formed result (speed is not asserted)."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cs_core.experiments.bench import common, csgm as bench_csgm, lasso, run_bench
from cs_core.experiments.bench.report import format_report
from cs_core.bases import BASES

ROOT = Path(__file__).resolve().parents[1]


def _positive(value) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


def _ratio_ok(value) -> bool:
    """A ratio is finite and positive, or None where a target was not reached."""
    return value is None or _positive(value)


@pytest.fixture(scope="module")
def result():
    return run_bench(torch.device("cpu"), repeats=1, quick=True, threads=1)


def test_result_structure(result):
    assert set(result) >= {"quick", "repeats", "settings", "machine", "first_snapshot", "csgm", "lasso", "memory"}
    assert result["quick"] is True and result["repeats"] == 1
    machine = result["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["torch_threads"] == 1
    assert machine["device"] == "cpu"
    json.dumps(result)  # the --json output is one plain JSON object


def test_csgm_section(result):
    c = result["csgm"]
    assert c["setting"]["m"] == 500 and c["setting"]["restarts"] == 2
    for side in ("reference", "ours"):
        assert _positive(c[side]["seconds"])
        assert math.isfinite(c[side]["measurement_loss"]) and math.isfinite(c[side]["mse"])
    # Same starts, same loss: the batched solver ends no worse than the one-restart-at-a-time loop.
    assert c["ours"]["measurement_loss"] <= c["reference"]["measurement_loss"] * (1 + 1e-3)
    assert _positive(c["speedup_total"])
    assert _ratio_ok(c["speedup_to_reference_loss"])
    assert c["ours"]["to_reference_loss_s"] is None or _positive(c["ours"]["to_reference_loss_s"])
    assert _positive(c["after"]["seconds"]) and math.isfinite(c["after"]["measurement_loss"])
    assert _ratio_ok(c["after_speedup_total"]) and _ratio_ok(c["after_speedup_to_reference_loss"])


def test_lasso_section(result):
    for name in ("dct", "wavelet"):
        r = result["lasso"][name]
        assert _positive(r["lam"]) and math.isclose(r["alpha"], r["lam"] / 500)
        assert _positive(r["F_star"]) and r["target"] >= r["F_star"]
        for solver in ("fista", "fista_power", "fista_working_set", "sklearn"):
            if r[solver]["seconds"] is not None:
                assert _positive(r[solver]["seconds"])
                assert r[solver]["objective"] <= r["target"] * (1 + 1e-5)  # FISTA's objective is float32
        assert r["fista"]["step"] == "backtracking" and r["fista_power"]["step"] == "power"
        assert r["fista_working_set"]["step"] == "working-set"
        assert _ratio_ok(r["speedup"]) and _ratio_ok(r["speedup_power"]) and _ratio_ok(r["speedup_working_set"])
        for solver, speedup in (("fista", "speedup"), ("fista_power", "speedup_power"),
                                ("fista_working_set", "speedup_working_set")):
            spread = r[solver]["speedup_spread"]  # one repeat: its spread is the one ratio, sklearn's ÷ FISTA's
            if r[speedup] is not None:
                assert spread["min"] == spread["median"] == spread["max"] == pytest.approx(r[speedup])
    batch = result["lasso"]["batch"]
    assert batch["images"] == 2 and _ratio_ok(batch["speedup_per_image"]) and _ratio_ok(batch["speedup_per_image_power"])
    assert _ratio_ok(batch["speedup_per_image_working_set"])
    for solver in ("fista", "fista_power", "fista_working_set"):
        if batch[solver]["seconds"] is not None:
            assert math.isclose(batch[solver]["per_image_s"], batch[solver]["seconds"] / 2)


def test_first_snapshot_and_memory(result):
    for key in ("mnist", "faces"):
        r = result["first_snapshot"][key]
        assert _positive(r["first_frame_s"]) and _positive(r["all_methods_s"])
        assert r["first_frame_s"] <= r["all_methods_s"]
    for section in result["memory"].values():
        assert _positive(section["peak_rss_mib"])


def test_report_is_a_table(result):
    text = format_report(result)
    assert "CSGM-DCGAN" in text and "| dct |" in text and "| wavelet |" in text and "Peak memory" in text


@pytest.mark.parametrize("basis", ["dct", "wavelet"])
def test_design_matrix_is_A_psi(basis):
    """X = AΨ built row by row from Ψᵀaᵢ equals applying A after Ψ."""
    from cs_core.domains import get_domain
    from cs_core.problem import make_problem
    truth = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    problem = make_problem(truth, get_domain("faces"), "gaussian", {"m": 20}, 0.0, 0, torch.device("cpu"))
    X = lasso.design_matrix(problem, BASES[basis])
    c = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    expected = problem.operator.A(BASES[basis].synthesis(c))[0].double()
    assert torch.allclose(X @ c.flatten().double(), expected, rtol=1e-4, atol=1e-4)


def test_reference_loop_matches_batched_solver():
    """The baseline is the same optimisation: from the same starts it ends at the same loss."""
    from cs_core.priors import PRIORS
    from cs_core.solvers.csgm import CSGMSettings, csgm
    problem = common.faces_problem(torch.device("cpu"))
    prior = PRIORS["dcgan"]
    settings = CSGMSettings(steps=3, lr=0.1, restarts=2, lam=0.001)
    generator = prior.load(problem.device)
    z0 = bench_csgm.initial_latents(problem, settings.restarts, prior.latent_dim)[0]
    ref = bench_csgm.reference_csgm(problem, generator, z0, settings)
    final = list(csgm(problem, generator, prior.latent_dim, settings))[-1]
    assert final.measurement_loss[0] <= ref.measurement_loss * (1 + 1e-4)


@pytest.mark.parametrize("flag", ["--repeats", "--threads"])
def test_cli_rejects_a_bad_count_in_one_line(flag):
    run = subprocess.run([sys.executable, "-m", "cs_core", "bench", flag, "0"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stderr.startswith("error: ") and flag in run.stderr
    assert run.stderr.count("\n") == 1
