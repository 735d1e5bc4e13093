"""Confidence intervals for published numbers: Student-t for means of few values, Wilson for rates.

- Student-t: mean ± t_{(1+c)/2, n−1} · s / √n, with s the sample standard deviation (ddof 1).
- Wilson score interval for a rate p̂ = k/n (no continuity correction), z = Φ⁻¹((1+c)/2):
  (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n).
"""
import math

import numpy as np
from scipy import stats as _stats


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def student_t_interval(values, confidence: float = 0.95) -> tuple[float, float, int]:
    """(mean, half_width, n) of the Student-t interval for the mean; half_width is nan when n = 1."""
    _check_confidence(confidence)
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0 or not np.isfinite(x).all():
        raise ValueError("values must be a non-empty sequence of finite numbers")
    n = int(x.size)
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, n
    quantile = float(_stats.t.ppf(0.5 + confidence / 2.0, df=n - 1))
    return mean, quantile * float(x.std(ddof=1)) / math.sqrt(n), n


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """(low, high) of the Wilson score interval for the rate successes / n."""
    _check_confidence(confidence)
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need n ≥ 1 and 0 ≤ successes ≤ n, got successes={successes}, n={n}")
    z = float(_stats.norm.ppf(0.5 + confidence / 2.0))
    p = successes / n
    scale = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / scale
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / scale
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends (no rounding residue)
    return low, 1.0 if successes == n else min(1.0, centre + half)
