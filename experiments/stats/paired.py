"""Paired analysis of common-random-number runs: every strategy replays the same orders, so compare by order.

Each variant row carries, over the n orders both it and the baseline served, its own sums (main_*) and the
baseline's sums on the same orders in the covariate columns (covariate_sum = Σy_A, covariate_sum_squares =
Σy_A², main_covariate_sum_product = Σy_B·y_A). With d = y_B − y_A:
    absolute  Δ = d̄ = (Σy_B − Σy_A)/n,  Var(Δ) = s²_d/n,  s²_d from Σd² = Σy_B² − 2Σy_B·y_A + Σy_A²,
    relative  Δ = Σy_B/Σy_A − 1, with the delta-method variance of a ratio of paired means (ratio.py with
              m = y_B, d = y_A), which keeps the covariance between the two strategies' values;
both referred to Student's t on n − 1 degrees of freedom (scipy's `ttest_rel` for the absolute case).
Pairing removes the order-to-order variation both strategies share; with positively correlated outcomes the
variance falls by 2·Cov(y_A, y_B)/n against an unpaired comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.stats.arrays import FloatArray, safe_divide
from experiments.stats.lift import LiftArrays
from experiments.stats.moments import sample_variance
from experiments.stats.ratio import ratio_moments


@dataclass(frozen=True, slots=True)
class PairedLifts:
    """Absolute and relative paired lifts, the per-order variance of the differences, and both means."""

    absolute: LiftArrays
    relative: LiftArrays
    difference_variance: FloatArray
    mean_variant: FloatArray
    mean_baseline: FloatArray


def paired_lifts(
    *,
    n: FloatArray,
    variant_sum: FloatArray,
    variant_sum_squares: FloatArray,
    baseline_sum: FloatArray,
    baseline_sum_squares: FloatArray,
    product_sum: FloatArray,
) -> PairedLifts:
    """Paired lifts of variants over the baseline on matched units."""
    diff_sum = variant_sum - baseline_sum
    diff_squares = variant_sum_squares - 2 * product_sum + baseline_sum_squares
    var_d = sample_variance(n=n, total=diff_sum, sum_squares=diff_squares)
    dof = n - 1
    absolute = LiftArrays(
        estimate=safe_divide(diff_sum, n), variance=safe_divide(var_d, n), dof=dof, n_total=n
    )
    ratio = ratio_moments(
        n=n,
        main_sum=variant_sum,
        main_sum_squares=variant_sum_squares,
        denominator_sum=baseline_sum,
        denominator_sum_squares=baseline_sum_squares,
        main_denominator_sum_product=product_sum,
    )
    relative = LiftArrays(
        estimate=ratio.mean - 1, variance=safe_divide(ratio.variance, n), dof=dof, n_total=n.copy()
    )
    with np.errstate(invalid="ignore", over="ignore"):
        return PairedLifts(
            absolute=absolute,
            relative=relative,
            difference_variance=var_d,
            mean_variant=safe_divide(variant_sum, n),
            mean_baseline=safe_divide(baseline_sum, n),
        )
