"""Guardrails: a variant may ship if it is shown not to worsen the metric by more than a margin m.

On the relative lift Δ (harm is Δ < 0 when higher is better, Δ > 0 when lower is better), with the
fixed-sample design the one-sided 1 − α Welch bound on the harmful side decides:
    pass          bound better than the margin (H₀: harm ≥ m rejected at level α: non-inferiority shown)
    fail          the opposite one-sided bound is itself beyond the margin (harm > m shown at level α)
    inconclusive  otherwise.
The p-value is that of the non-inferiority test, H₀: Δ ≤ −m (or Δ ≥ m), as gbstats' one-sided t tests with
`test_value` compute it. With sequential testing on, the bounds are those of the always-valid two-sided
1 − α interval (so each side holds at α/2 at every look) and the p-value is the always-valid one against
Δ = ∓m. A margin of 0 asks "not worse".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from experiments.stats.arrays import BoolArray, FloatArray
from experiments.stats.frequentist import welch_one_sided_bound, welch_one_sided_p
from experiments.stats.lift import LiftArrays
from experiments.stats.sequential import sequential_interval


@dataclass(frozen=True, slots=True)
class GuardrailArrays:
    """Verdict codes (1 pass, −1 fail, 0 inconclusive), harmful-side bounds and non-inferiority p-values."""

    verdict: npt.NDArray[np.int8]
    bound: FloatArray
    p_value: FloatArray


def guardrail_arrays(
    *,
    lift: LiftArrays,
    margin: FloatArray,
    lower_is_better: BoolArray,
    sequential: BoolArray,
    alpha: float,
    tuning: float,
) -> GuardrailArrays:
    """Non-inferiority verdicts of relative lifts against their margins."""
    harm_sign = np.where(lower_is_better, 1.0, -1.0)  # the sign of a harmful lift
    test_value = harm_sign * margin
    fixed_low = welch_one_sided_bound(
        estimate=lift.estimate, variance=lift.variance, dof=lift.dof, alpha=alpha, lower=True
    )
    fixed_high = welch_one_sided_bound(
        estimate=lift.estimate, variance=lift.variance, dof=lift.dof, alpha=alpha, lower=False
    )
    p_greater = welch_one_sided_p(
        estimate=lift.estimate, variance=lift.variance, dof=lift.dof, test_value=test_value, greater=True
    )
    p_lesser = welch_one_sided_p(
        estimate=lift.estimate, variance=lift.variance, dof=lift.dof, test_value=test_value, greater=False
    )
    fixed_p = np.where(lower_is_better, p_lesser, p_greater)
    seq = sequential_interval(
        estimate=lift.estimate - test_value,
        variance=lift.variance,
        n_total=lift.n_total,
        alpha=alpha,
        tuning=tuning,
    )
    low = np.where(sequential, seq.low + test_value, fixed_low)
    high = np.where(sequential, seq.high + test_value, fixed_high)
    p_value = np.where(sequential, seq.p_value, fixed_p)
    # Harmful-side bound and the bound on the other side, oriented so that "beyond the margin" is > m.
    harmful = np.where(lower_is_better, high, low)
    favourable = np.where(lower_is_better, low, high)
    passes = harm_sign * harmful < margin
    fails = harm_sign * favourable > margin
    verdict = np.where(passes, 1, np.where(fails, -1, 0)).astype(np.int8)
    return GuardrailArrays(verdict=verdict, bound=harmful, p_value=p_value)
