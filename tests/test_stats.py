"""Student-t and Wilson intervals against closed forms, printed tables and scipy's binomial test."""
import math

import numpy as np
import pytest
from scipy import stats

from cs_core.stats import student_t_interval, wilson_interval


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_t_quantile_closed_forms(confidence):
    # df = 1 (Cauchy): t = tan(π(p − ½)); df = 2: t = (2p − 1)/√(2p(1 − p)), p = (1 + c)/2.
    p = 0.5 + confidence / 2
    for values, quantile in (([0.0, 1.0], math.tan(math.pi * (p - 0.5))),
                             ([0.0, 1.0, 5.0], (2 * p - 1) / math.sqrt(2 * p * (1 - p)))):
        mean, half, n = student_t_interval(values, confidence)
        assert n == len(values) and mean == pytest.approx(np.mean(values), rel=1e-15)
        assert half == pytest.approx(quantile * np.std(values, ddof=1) / math.sqrt(n), rel=1e-12)


@pytest.mark.parametrize("n,quantile", [(4, 3.182446), (7, 2.446912), (31, 2.042272)])
def test_t_quantile_printed_table(n, quantile):
    values = np.arange(n, dtype=float) ** 2
    mean, half, count = student_t_interval(values)
    assert count == n
    assert half * math.sqrt(n) / values.std(ddof=1) == pytest.approx(quantile, abs=5e-7)  # table: 6 decimals


def test_t_interval_single_value_and_bad_input():
    assert student_t_interval([0.3])[0] == 0.3 and math.isnan(student_t_interval([0.3])[1])
    for bad in ([], [1.0, float("nan")]):
        with pytest.raises(ValueError):
            student_t_interval(bad)
    with pytest.raises(ValueError):
        student_t_interval([1.0, 2.0], confidence=1.0)


@pytest.mark.parametrize("successes,n", [(0, 20), (1, 20), (9, 20), (18, 20), (20, 20), (55, 100), (3, 7)])
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_wilson_equals_scipy(successes, n, confidence):
    ref = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    low, high = wilson_interval(successes, n, confidence)
    assert low == pytest.approx(ref.low, abs=1e-12) and high == pytest.approx(ref.high, abs=1e-12)


def test_wilson_zero_successes_closed_form():
    z = 1.959963984540054  # Φ⁻¹(0.975)
    for n in (5, 20, 100):
        low, high = wilson_interval(0, n)
        assert low == 0.0 and high == pytest.approx(z * z / (n + z * z), rel=1e-12)
        assert wilson_interval(n, n) == (pytest.approx(n / (n + z * z), rel=1e-12), 1.0)


@pytest.mark.parametrize("successes,n", [(-1, 5), (6, 5), (0, 0)])
def test_wilson_bad_input(successes, n):
    with pytest.raises(ValueError):
        wilson_interval(successes, n)
