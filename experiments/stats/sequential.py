"""Always-valid (sequential) confidence intervals: the normal-mixture confidence sequence.

The asymptotic confidence sequence of Waudby-Smith et al. (2023, eq. 9), as gbstats implements it. With N
units so far, Δ̂ the lift estimate and σ² = N·Var(Δ̂) its per-unit variance, mixing the likelihood ratio
over a N(0, ρ²) prior on the standardised effect gives the mixture SPRT boundary and the interval
    Δ̂ ∓ σ · sqrt( 2(Nρ² + 1) / (N²ρ²) · ln( sqrt(Nρ² + 1) / α ) ),
valid simultaneously over every N, so analysts may look at any time and stop when they like. The
always-valid p-value is min(1, 1/E) with the mixture e-value
    E = exp( ρ²·N·Δ̂²/σ² / (2(Nρ² + 1)) ) / sqrt(Nρ² + 1),
and p < α exactly when the interval excludes 0.

Tuning: ρ is chosen so that the interval is narrowest at N = τ (eq. 161 of the paper):
    ρ² = (−2 ln α + ln(−2 ln α + 1)) / τ,      τ = `AnalysisSettings.sequential_tuning` (default 5000).
Set τ near the total units the experiment expects; the interval is wider than the fixed-N interval at every
N (for α = 0.05: 1.55× at N = τ, 1.97× at τ/10, 1.65× at 10τ) — the price of peeking freely.
"""

from __future__ import annotations

import math

import numpy as np

from experiments.stats.arrays import FloatArray
from experiments.stats.frequentist import IntervalArrays


def mixture_rho(*, alpha: float, tuning: float) -> float:
    """The mixture's standard deviation ρ that makes the interval narrowest at N = `tuning`."""
    return math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)


def sequential_interval(
    *, estimate: FloatArray, variance: FloatArray, n_total: FloatArray, alpha: float, tuning: float
) -> IntervalArrays:
    """Always-valid two-sided 1 − α interval and p-value for H₀: Δ = 0 after `n_total` units."""
    rho = mixture_rho(alpha=alpha, tuning=tuning)
    big_n = n_total
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s2 = variance * big_n
        half_width = np.sqrt(s2) * np.sqrt(
            (2 * (big_n * rho**2 + 1)) * np.log(np.sqrt(big_n * rho**2 + 1) / alpha) / (big_n * rho) ** 2
        )
        st2 = estimate**2 * big_n / variance
        tr2p1 = big_n * rho**2 + 1
        evalue = np.exp(rho**2 * st2 / (2 * tr2p1)) / np.sqrt(tr2p1)
        p_value = np.minimum(1 / evalue, 1.0)
        p_value[np.isnan(estimate) | np.isnan(variance)] = np.nan
        return IntervalArrays(low=estimate - half_width, high=estimate + half_width, p_value=p_value)
