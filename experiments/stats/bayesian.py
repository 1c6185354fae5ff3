"""Bayesian read-out of a lift: normal posterior, chance to win, risk, credible interval.

The lift estimate is treated as Δ̂ ~ N(Δ, V) with V its delta-method variance (the same V the Welch test
uses). With a N(μ₀, σ₀²) prior on Δ the posterior is normal with
    precision 1/V + 1/σ₀²,   mean (Δ̂/V + μ₀/σ₀²) / precision;
with the flat improper prior (the default, as gbstats) it is N(Δ̂, V). The prior is stated on the relative
lift; for an absolute lift it is rescaled by the baseline mean: μ₀·|x̄_A|, σ₀²·x̄_A².
    chance to win    P(Δ > 0) = Φ(m/s) (P(Δ < 0) when lower is better)
    risk of shipping E[max(−Δ, 0)] = s·φ(m/s) − m·Φ(−m/s)  (expected loss if the variant is worse)
    risk of keeping  E[max(Δ, 0)]  = s·φ(m/s) + m·Φ(m/s)   (expected loss if the variant is better)
(the two risks swap when lower is better) and the credible interval is m ∓ s·Φ⁻¹(1 − α/2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from experiments.stats.arrays import BoolArray, FloatArray

_INV_SQRT_2PI = 1 / np.sqrt(2 * np.pi)


@dataclass(frozen=True, slots=True)
class PosteriorArrays:
    """Posterior mean and sd of the lift with the decision quantities, one per comparison."""

    mean: FloatArray
    std_dev: FloatArray
    low: FloatArray
    high: FloatArray
    chance_to_win: FloatArray
    risk_variant: FloatArray
    risk_baseline: FloatArray


def posterior_compute(
    *,
    estimate: FloatArray,
    variance: FloatArray,
    prior_mean: FloatArray,
    prior_variance: FloatArray,
    proper: bool,
    alpha: float,
    lower_is_better: BoolArray,
) -> PosteriorArrays:
    """Normal posterior of the lift and its decision quantities, in the metric's good direction."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if proper:
            precision = 1 / variance + 1 / prior_variance
            mean = (estimate / variance + prior_mean / prior_variance) / precision
        else:
            precision = 1 / variance
            mean = estimate
        sd = np.sqrt(1 / precision)
        z = mean / sd
        density = _INV_SQRT_2PI * np.exp(-0.5 * z * z)
        p_positive = special.ndtr(z)
        gain = sd * density + mean * p_positive  # E[max(Δ, 0)]
        loss = sd * density - mean * special.ndtr(-z)  # E[max(−Δ, 0)]
        half = sd * special.ndtri(1 - alpha / 2)
        low, high = mean - half, mean + half
    inverse = lower_is_better
    return PosteriorArrays(
        mean=mean,
        std_dev=sd,
        low=low,
        high=high,
        chance_to_win=np.where(inverse, special.ndtr(-z), p_positive),
        risk_variant=np.where(inverse, gain, loss),
        risk_baseline=np.where(inverse, loss, gain),
    )
