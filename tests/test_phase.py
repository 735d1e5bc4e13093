"""The phase transition's counts and their 95 % Wilson intervals, through the solver and the CLI's JSON."""
import json

import pytest
import torch
from scipy import stats

from cs_core.cli import main
from cs_core.landscape.phase import phase_transition


def test_phase_points_count_successes_and_carry_wilson_intervals():
    points = list(phase_transition(2, [20, 100], [1, 60], trials=12, steps=60, seed=0, device=torch.device("cpu")))
    for point in points:
        assert point.trials == 12
        for method, count in point.successes.items():
            assert isinstance(count, int) and 0 <= count <= 12
            assert point.success[method] == count / 12
            ref = stats.binomtest(count, 12).proportion_ci(0.95, method="wilson")
            assert point.interval[method] == (pytest.approx(ref.low, abs=1e-12), pytest.approx(ref.high, abs=1e-12))
    assert points[0].successes["negation"] < points[1].successes["negation"]


def test_cli_phase_json_reports_counts_and_intervals(capsys):
    assert main(["landscape", "phase", "--k", "2", "--widths", "20,100", "--m", "2,50", "--trials", "5",
                 "--steps", "30", "--json", "--device", "cpu"]) == 0
    for row in json.loads(capsys.readouterr().out)["results"]:
        for method, (low, high) in row["wilson95"].items():
            assert 0 <= low <= row["success"][method] <= high <= 1
            assert row["success"][method] == row["successes"][method] / 5
