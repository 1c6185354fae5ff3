"""Welch's t test on a lift: two-sided interval and p-value, and the one-sided test guardrails use.

With T = (Δ − δ₀)/sqrt(Var Δ) referred to Student's t with Welch's ν degrees of freedom:
    two-sided p = 2·F_ν(−|T|),  CI = Δ ∓ t_{ν, 1−α/2}·sqrt(Var Δ);
    one-sided p for H₀: Δ ≤ δ₀ is F_ν(−T), for H₀: Δ ≥ δ₀ it is F_ν(T).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from experiments.stats.arrays import FloatArray


@dataclass(frozen=True, slots=True)
class IntervalArrays:
    """Confidence bounds and p-values, one per comparison."""

    low: FloatArray
    high: FloatArray
    p_value: FloatArray


def welch_interval(
    *, estimate: FloatArray, variance: FloatArray, dof: FloatArray, alpha: float
) -> IntervalArrays:
    """Two-sided 1 − α Welch interval and p-value for H₀: Δ = 0."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        se = np.sqrt(variance)
        half_width = special.stdtrit(dof, 1 - alpha / 2) * se
        p_value = 2 * special.stdtr(dof, -np.abs(estimate / se))
        return IntervalArrays(low=estimate - half_width, high=estimate + half_width, p_value=p_value)


def welch_one_sided_p(
    *, estimate: FloatArray, variance: FloatArray, dof: FloatArray, test_value: FloatArray, greater: bool
) -> FloatArray:
    """p-value against H₀: Δ ≤ δ₀ (`greater`) or H₀: Δ ≥ δ₀, with Welch's degrees of freedom."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = (estimate - test_value) / np.sqrt(variance)
    return special.stdtr(dof, -t if greater else t)  # type: ignore[no-any-return]


def welch_one_sided_bound(
    *, estimate: FloatArray, variance: FloatArray, dof: FloatArray, alpha: float, lower: bool
) -> FloatArray:
    """The one-sided 1 − α confidence bound: Δ − t_{ν,1−α}·SE if `lower`, else Δ + t_{ν,1−α}·SE."""
    with np.errstate(invalid="ignore", over="ignore"):
        width = special.stdtrit(dof, 1 - alpha) * np.sqrt(variance)
        return estimate - width if lower else estimate + width  # type: ignore[no-any-return]
