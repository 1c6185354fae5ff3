"""Ratio metrics (Σm / Σd over units, e.g. minutes late per order, km per delivery): the delta method.

With unit means m̄ = Σm/n, d̄ = Σd/n, the estimate R = Σm/Σd has, to first order,
    n·Var(R) = s²_m/d̄² − 2·R·s_md/d̄² + R²·s²_d/d̄²
             = s²_m/d̄² − 2·s_md·m̄/d̄³ + m̄²·s²_d/d̄⁴          (the form gbstats evaluates)
with unbiased sample (co)variances. The same estimator, with cells as units, is the switchback analysis.
"""

from __future__ import annotations

import numpy as np

from experiments.stats.arrays import FloatArray, safe_divide
from experiments.stats.moments import Moments, sample_covariance, sample_variance


def ratio_moments(
    *,
    n: FloatArray,
    main_sum: FloatArray,
    main_sum_squares: FloatArray,
    denominator_sum: FloatArray,
    denominator_sum_squares: FloatArray,
    main_denominator_sum_product: FloatArray,
) -> Moments:
    """Ratio of sums and its delta-method per-unit variance; NaN where Σd = 0 or n ≤ 1."""
    ratio = safe_divide(main_sum, denominator_sum)
    mean_m = safe_divide(main_sum, n)
    mean_d = safe_divide(denominator_sum, n)
    var_m = sample_variance(n=n, total=main_sum, sum_squares=main_sum_squares)
    var_d = sample_variance(n=n, total=denominator_sum, sum_squares=denominator_sum_squares)
    cov = sample_covariance(n=n, sum_x=main_sum, sum_y=denominator_sum, sum_xy=main_denominator_sum_product)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        variance = var_m / mean_d**2 - 2 * cov * mean_m / mean_d**3 + mean_m**2 * var_d / mean_d**4
    variance[~np.isfinite(mean_d) | (mean_d == 0)] = np.nan
    return Moments(n=n, mean=ratio, unadjusted_mean=ratio, variance=variance)
