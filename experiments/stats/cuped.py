"""CUPED: regression adjustment on a pre-period covariate x of the same unit (Deng et al., 2013).

θ = Cov(y, x) / Var(x) is estimated once per comparison on the pooled units of both variants, so the
adjustment cannot manufacture a difference. Each variant's adjusted mean is ȳ − θ·x̄ and its per-unit
variance s²_y + θ²·s²_x − 2θ·s_yx. Since the covariate is measured before assignment, E[x̄_B − x̄_A] = 0
and the adjusted difference is unbiased; its variance shrinks by the factor (1 − ρ²). When the pooled
covariate (or outcome) has no variance, θ is 0 and the comparison is the unadjusted one (as gbstats does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.stats.arrays import BoolArray, FloatArray, safe_divide
from experiments.stats.moments import Moments, sample_covariance, sample_variance


@dataclass(frozen=True, slots=True)
class CupedSide:
    """The post-period (y) and pre-period (x) sums of one side of many comparisons."""

    n: FloatArray
    post_sum: FloatArray
    post_sum_squares: FloatArray
    pre_sum: FloatArray
    pre_sum_squares: FloatArray
    post_pre_sum_product: FloatArray


def _variance(side_n: FloatArray, total: FloatArray, sum_squares: FloatArray, proportion: bool) -> FloatArray:
    if proportion:
        p = safe_divide(total, side_n)
        return p * (1 - p)
    return sample_variance(n=side_n, total=total, sum_squares=sum_squares)


@dataclass(frozen=True, slots=True)
class CupedMoments:
    """Adjusted moments of both sides, the θ used, and where no adjustment was possible."""

    a: Moments
    b: Moments
    theta: FloatArray
    unadjusted: BoolArray


def cuped_moments(*, a: CupedSide, b: CupedSide, proportion: bool) -> CupedMoments:
    """Both sides' CUPED-adjusted moments with θ from the pooled units; θ = 0 where it is undefined."""
    n = a.n + b.n
    pooled_post_var = _variance(
        n, a.post_sum + b.post_sum, a.post_sum_squares + b.post_sum_squares, proportion
    )
    pooled_pre_var = _variance(n, a.pre_sum + b.pre_sum, a.pre_sum_squares + b.pre_sum_squares, proportion)
    pooled_cov = sample_covariance(
        n=n,
        sum_x=a.post_sum + b.post_sum,
        sum_y=a.pre_sum + b.pre_sum,
        sum_xy=a.post_pre_sum_product + b.post_pre_sum_product,
    )
    unadjusted = ~(pooled_pre_var != 0) | ~(pooled_post_var != 0) | ~np.isfinite(pooled_cov)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        theta = np.where(unadjusted, 0.0, pooled_cov / pooled_pre_var)
    return CupedMoments(
        a=_adjusted(a, theta, proportion),
        b=_adjusted(b, theta, proportion),
        theta=theta,
        unadjusted=unadjusted,
    )


def _adjusted(side: CupedSide, theta: FloatArray, proportion: bool) -> Moments:
    post_mean = safe_divide(side.post_sum, side.n)
    pre_mean = safe_divide(side.pre_sum, side.n)
    post_var = _variance(side.n, side.post_sum, side.post_sum_squares, proportion)
    pre_var = _variance(side.n, side.pre_sum, side.pre_sum_squares, proportion)
    cov = sample_covariance(
        n=side.n, sum_x=side.post_sum, sum_y=side.pre_sum, sum_xy=side.post_pre_sum_product
    )
    # Where θ = 0 the unadjusted variance is used even if the covariance is undefined.
    cov_term = np.where(theta == 0, 0.0, 2 * theta * cov)
    variance = post_var + theta**2 * pre_var - cov_term
    variance[side.n <= 1] = np.nan
    return Moments(n=side.n, mean=post_mean - theta * pre_mean, unadjusted_mean=post_mean, variance=variance)
