"""Planning: power, minimum detectable effect and sample size of a two-sample t test.

With a common per-unit standard deviation σ, n_A and n_B units, and standardised effect d = δ/σ, the
two-sided test at level α on ν = n_A + n_B − 2 degrees of freedom has power
    P = 1 − F_{ν,λ}(t_{ν,1−α/2}) + F_{ν,λ}(t_{ν,α/2}),     λ = d·sqrt(n_A·n_B/(n_A + n_B)),
with F_{ν,λ} the noncentral t distribution (statsmodels' `TTestIndPower` computes the same). The MDE is
the δ > 0 at which P equals the target power, found by Brent's method to 1e-12 relative. Clustered
designs (switchbacks) pass their design effect: n is replaced by the effective n = n / deff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, special

from experiments.stats.arrays import FloatArray, floats_from
from experiments.stats.flags import Flag, FlagCode, flag_make
from experiments.stats.inputs import MetricKind, VariantStats
from experiments.stats.moments import mean_moments, proportion_moments
from experiments.stats.ratio import ratio_moments


@dataclass(frozen=True, slots=True)
class Mde:
    """The smallest true lift detected with the target power; None, with a flag, when undefined."""

    absolute: float | None
    relative: float | None
    n_a: float
    n_b: float
    alpha: float
    power: float
    flags: tuple[Flag, ...]


@dataclass(frozen=True, slots=True)
class SampleSize:
    """Units per variant needed to detect `effect` with the target power (fractional, and rounded up)."""

    n_a: float
    n_b: float
    n_a_units: int
    n_b_units: int


@dataclass(frozen=True, slots=True)
class PlanningBaseline:
    """A metric's mean and per-unit standard deviation measured on past data, for planning."""

    mean: float | None
    std_dev: float | None
    n: int
    flags: tuple[Flag, ...]


def _power(d: float, n_a: float, n_b: float, alpha: float) -> float:
    dof = n_a + n_b - 2
    nc = d * math.sqrt(1.0 / (1.0 / n_a + 1.0 / n_b))
    upper = special.stdtrit(dof, 1 - alpha / 2)
    lower = special.stdtrit(dof, alpha / 2)
    below_upper = float(special.nctdtr(dof, nc, upper))
    below_lower = float(special.nctdtr(dof, nc, lower))
    # The noncentral t cdf underflows to NaN far in a tail (|λ| ≳ 33); there it is 0 or 1.
    if math.isnan(below_upper):
        below_upper = 0.0 if nc > upper else 1.0
    if math.isnan(below_lower):
        below_lower = 0.0 if nc > lower else 1.0
    return (1 - below_upper) + below_lower


def power_compute(
    *, effect: float, std_dev: float, n_a: float, n_b: float, alpha: float = 0.05, design_effect: float = 1.0
) -> float:
    """Probability that the two-sided t test at `alpha` rejects when the true absolute lift is `effect`."""
    if std_dev <= 0 or n_a / design_effect <= 1 or n_b / design_effect <= 1:
        raise ValueError("power needs a positive std_dev and more than one effective unit per variant")
    return _power(effect / std_dev, n_a / design_effect, n_b / design_effect, alpha)


def _standardised_mde(n_a: float, n_b: float, alpha: float, power: float) -> float:
    scale = math.sqrt(1.0 / n_a + 1.0 / n_b)
    guess = (special.ndtri(1 - alpha / 2) + special.ndtri(power)) * scale
    upper = 2 * guess
    while _power(upper, n_a, n_b, alpha) < power:
        upper *= 2
    return float(
        optimize.brentq(lambda d: _power(d, n_a, n_b, alpha) - power, 1e-12, upper, xtol=1e-15, rtol=1e-12)
    )


def mde_compute(
    *,
    std_dev: float,
    n_a: float,
    n_b: float,
    alpha: float = 0.05,
    power: float = 0.8,
    baseline_mean: float | None = None,
    design_effect: float = 1.0,
) -> Mde:
    """Absolute (and, given a positive baseline mean, relative) MDE of the planned two-sided test."""
    eff_a, eff_b = n_a / design_effect, n_b / design_effect
    flags: list[Flag] = []
    if min(eff_a, eff_b) <= 1:
        flags.append(
            flag_make(FlagCode.TOO_FEW_UNITS, variant="The smaller variant", n=int(min(eff_a, eff_b)))
        )
    if not std_dev > 0:
        flags.append(flag_make(FlagCode.ZERO_VARIANCE, variant="The baseline"))
    if flags:
        return Mde(None, None, n_a, n_b, alpha, power, tuple(flags))
    absolute = _standardised_mde(eff_a, eff_b, alpha, power) * std_dev
    relative: float | None = None
    if baseline_mean is not None:
        if baseline_mean > 0:
            relative = absolute / baseline_mean
        else:
            code = FlagCode.ZERO_BASELINE if baseline_mean == 0 else FlagCode.NEGATIVE_BASELINE
            flags.append(flag_make(code))
    return Mde(absolute, relative, n_a, n_b, alpha, power, tuple(flags))


def sample_size_compute(
    *,
    effect: float,
    std_dev: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    design_effect: float = 1.0,
) -> SampleSize:
    """Units per variant (n_B = ratio·n_A) for the two-sided test to detect absolute `effect` with `power`."""
    if effect == 0 or std_dev <= 0 or ratio <= 0:
        raise ValueError("sample size needs a non-zero effect, a positive std_dev and a positive ratio")
    d = abs(effect) / std_dev

    def gap(n_a: float) -> float:
        return _power(d, n_a, ratio * n_a, alpha) - power

    upper = 4.0
    while gap(upper) < 0:
        upper *= 2
    lower = max(2.0 / min(1.0, ratio), 1.000001)
    n_a = float(optimize.brentq(gap, lower, upper, xtol=1e-9, rtol=1e-12)) if gap(lower) < 0 else lower
    n_a *= design_effect
    return SampleSize(n_a=n_a, n_b=ratio * n_a, n_a_units=math.ceil(n_a), n_b_units=math.ceil(ratio * n_a))


def planning_baseline(*, stats: VariantStats, kind: MetricKind) -> PlanningBaseline:
    """Mean and per-unit standard deviation of past data (delta-method for ratios) to feed the MDE."""

    def arr(value: float | None) -> FloatArray:
        return floats_from([value])

    n = arr(float(stats.n))
    if kind == "proportion":
        moments = proportion_moments(n=n, total=arr(stats.main_sum))
    elif kind == "ratio":
        if not stats.has_denominator:
            raise ValueError("a ratio metric needs the denominator columns")
        moments = ratio_moments(
            n=n,
            main_sum=arr(stats.main_sum),
            main_sum_squares=arr(stats.main_sum_squares),
            denominator_sum=arr(stats.denominator_sum),
            denominator_sum_squares=arr(stats.denominator_sum_squares),
            main_denominator_sum_product=arr(stats.main_denominator_sum_product),
        )
    elif kind == "mean":
        moments = mean_moments(n=n, total=arr(stats.main_sum), sum_squares=arr(stats.main_sum_squares))
    else:
        raise ValueError("plan quantile metrics from a pilot's quantile variance, not from sums")
    flags: list[Flag] = []
    if stats.n == 0:
        flags.append(flag_make(FlagCode.NO_UNITS, variant=stats.variant))
    elif stats.n == 1:
        flags.append(flag_make(FlagCode.TOO_FEW_UNITS, variant=stats.variant, n=stats.n))
    mean = float(moments.mean[0])
    variance = float(moments.variance[0])
    if not flags and not variance > 0:
        flags.append(flag_make(FlagCode.ZERO_VARIANCE, variant=stats.variant))
    return PlanningBaseline(
        mean=None if mean != mean else mean,
        std_dev=math.sqrt(variance) if variance > 0 else None,
        n=stats.n,
        flags=tuple(flags),
    )
