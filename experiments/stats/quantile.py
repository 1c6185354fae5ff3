"""Quantile metrics (P50, P90 of delivery time): the variance of a sample quantile from its order statistics.

A sample ν-quantile q̂ of N values has asymptotic variance ν(1−ν) / (N·f(q)²), f the density at q. The
density is never estimated directly: the SQL also returns the sample quantiles L and U at the levels
ν ∓ z·sqrt(ν(1−ν)/N*) (z = Φ⁻¹(0.975)), which bracket q̂ with probability ≈ 95 % for a sample of N*, so
(U − L) / (2z) ≈ sqrt(ν(1−ν)/N*) / f(q). The per-unit variance, as in gbstats, is
    σ²_iid = (N*/N) · (N − 1) · ((U − L) / (2z))²       and Var(q̂) = σ²_iid / N.
Clustered data (orders within switchback cells) inflate it by the design effect of the indicator
1{value ≤ q̂}: with per-cluster counts a_c = #{values ≤ q̂} and b_c = #values over G clusters,
    σ²_cluster = σ²_iid · V_G / (ν(1−ν)/N),
where V_G is the delta-method variance of Σa_c/Σb_c with cluster-level sample (co)variances (divisor G−1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from experiments.stats.arrays import BoolArray, FloatArray
from experiments.stats.moments import Moments

BRACKET_Z = float(special.ndtri(0.975))


@dataclass(frozen=True, slots=True)
class QuantileMoments:
    """Moments of quantile estimates and where the quantile cannot be estimated."""

    moments: Moments
    undersampled: BoolArray
    collapsed: BoolArray


def quantile_min_n(level: float) -> float:
    """The count a sample must exceed for the ν ∓ z·sqrt(ν(1−ν)/N) bracket to stay inside (0, 1)."""
    return BRACKET_Z**2 * max(level / (1 - level), (1 - level) / level)


def quantile_moments(
    *,
    level: FloatArray,
    quantile_n: FloatArray,
    quantile_nstar: FloatArray,
    quantile: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    clusters: FloatArray,
    main_sum: FloatArray,
    main_sum_squares: FloatArray,
    denominator_sum: FloatArray,
    denominator_sum_squares: FloatArray,
    main_denominator_sum_product: FloatArray,
) -> QuantileMoments:
    """Quantile estimates and per-unit variances; cluster columns that are NaN mean independent units."""
    n = quantile_n
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        variance = (quantile_nstar / n) * (n - 1) * ((upper - lower) / (2 * BRACKET_Z)) ** 2
        g = clusters
        mu_s = main_sum / g
        mu_n = denominator_sum / g
        var_s = (main_sum_squares / g - mu_s * mu_s) * g / (g - 1)
        var_n = (denominator_sum_squares / g - mu_n * mu_n) * g / (g - 1)
        cov_sn = (main_denominator_sum_product / g - mu_s * mu_n) * g / (g - 1)
        cluster_var = (var_s - 2 * mu_s * cov_sn / mu_n + mu_s**2 * var_n / mu_n**2) / (g * mu_n**2)
        inflation = cluster_var / (level * (1 - level) / n)
    clustered = np.isfinite(clusters)
    variance = np.where(clustered, variance * inflation, variance)
    undersampled = (n <= BRACKET_Z**2 * level / (1 - level)) | (n <= BRACKET_Z**2 * (1 - level) / level)
    invalid_cluster = clustered & ((clusters <= 1) | ~(denominator_sum > 0))
    variance[(n <= 1) | invalid_cluster] = np.nan
    collapsed = ~undersampled & (n > 1) & ~invalid_cluster & ~(variance > 0)
    return QuantileMoments(
        moments=Moments(n=n, mean=quantile, unadjusted_mean=quantile, variance=variance),
        undersampled=undersampled,
        collapsed=collapsed,
    )
