"""The lift of a variant B over the baseline A, absolute or relative, with the variance of its estimate.

Absolute: Δ = x̄_B − x̄_A, Var(Δ) = s²_B/n_B + s²_A/n_A.
Relative: Δ = (x̄_B − x̄_A) / x̄_A, and by the delta method on x̄_B/x̄_A (the two means independent)
    Var(Δ) = s²_B / (x̄_A²·n_B) + s²_A·x̄_B² / (x̄_A⁴·n_A).
Under CUPED x̄ are the adjusted means in the numerator and s² the adjusted variances, while x̄_A, x̄_B in
the relative scaling stay unadjusted (so the lift is relative to what the baseline actually measured).
Degrees of freedom are Welch–Satterthwaite's on the per-unit variances:
    ν = (s²_B/n_B + s²_A/n_A)² / (s⁴_B/(n_B²(n_B−1)) + s⁴_A/(n_A²(n_A−1))).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.stats.arrays import FloatArray
from experiments.stats.moments import Moments


@dataclass(frozen=True, slots=True)
class LiftArrays:
    """Point estimates, their variances, degrees of freedom and total units, one per comparison."""

    estimate: FloatArray
    variance: FloatArray
    dof: FloatArray
    n_total: FloatArray


def welch_dof(a: Moments, b: Moments) -> FloatArray:
    """Welch–Satterthwaite degrees of freedom of x̄_B − x̄_A."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return (b.variance / b.n + a.variance / a.n) ** 2 / (
            b.variance**2 / (b.n**2 * (b.n - 1)) + a.variance**2 / (a.n**2 * (a.n - 1))
        )


def lift_compute(a: Moments, b: Moments, *, relative: bool) -> LiftArrays:
    """B's lift over A with its delta-method variance; NaN wherever an input is undefined."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if relative:
            estimate = (b.mean - a.mean) / a.unadjusted_mean
            variance = b.variance / (a.unadjusted_mean**2 * b.n) + a.variance * b.unadjusted_mean**2 / (
                a.unadjusted_mean**4 * a.n
            )
        else:
            estimate = b.mean - a.mean
            variance = b.variance / b.n + a.variance / a.n
    return LiftArrays(estimate=estimate, variance=variance, dof=welch_dof(a, b), n_total=a.n + b.n)
