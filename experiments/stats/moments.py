"""Per-unit mean and variance of one side of many comparisons, from sums (mean and proportion metrics).

Variances are per unit: the variance of a variant's mean is `variance / n`. Undefined values are NaN and
the caller flags them (n = 0: no mean; n ≤ 1: no variance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.stats.arrays import FloatArray, safe_divide


@dataclass(frozen=True, slots=True)
class Moments:
    """Sample size, (adjusted) mean, unadjusted mean and per-unit variance, one element per comparison."""

    n: FloatArray
    mean: FloatArray
    unadjusted_mean: FloatArray
    variance: FloatArray


def sample_variance(*, n: FloatArray, total: FloatArray, sum_squares: FloatArray) -> FloatArray:
    """(Σx² − (Σx)²/n) / (n − 1), the unbiased sample variance; NaN for n ≤ 1."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = (sum_squares - total**2 / n) / (n - 1)
    out[n <= 1] = np.nan
    return out


def sample_covariance(
    *, n: FloatArray, sum_x: FloatArray, sum_y: FloatArray, sum_xy: FloatArray
) -> FloatArray:
    """(Σxy − ΣxΣy/n) / (n − 1), the unbiased sample covariance; NaN for n ≤ 1."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = (sum_xy - sum_x * sum_y / n) / (n - 1)
    out[n <= 1] = np.nan
    return out


def mean_moments(*, n: FloatArray, total: FloatArray, sum_squares: FloatArray) -> Moments:
    """Mean Σx/n and unbiased sample variance of a mean metric."""
    mean = safe_divide(total, n)
    return Moments(
        n=n,
        mean=mean,
        unadjusted_mean=mean,
        variance=sample_variance(n=n, total=total, sum_squares=sum_squares),
    )


def proportion_moments(*, n: FloatArray, total: FloatArray) -> Moments:
    """Share p = Σx/n of a 0/1 metric and its Bernoulli variance p(1 − p) (the MLE, as gbstats uses)."""
    p = safe_divide(total, n)
    return Moments(n=n, mean=p, unadjusted_mean=p, variance=p * (1 - p))
