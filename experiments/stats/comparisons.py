"""From lift arrays to result dataclasses: intervals, posteriors, guardrails and flags for many comparisons.

Every route (independent, CUPED, quantile, paired, switchback) ends here, so a comparison reads the same
whatever produced it. Numbers on a scale that carries a blocking flag are withheld (None).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from experiments.stats.arrays import BoolArray, FloatArray, optional_floats
from experiments.stats.bayesian import posterior_compute
from experiments.stats.flags import BLOCKING, Flag, FlagCode, flag_make
from experiments.stats.frequentist import welch_interval
from experiments.stats.guardrail import guardrail_arrays
from experiments.stats.inputs import AnalysisSettings, Difference
from experiments.stats.lift import LiftArrays
from experiments.stats.results import Comparison, GuardrailVerdict, Outcome, Posterior, VariantResult, Verdict
from experiments.stats.sequential import sequential_interval

_VERDICTS: dict[int, Verdict] = {1: "pass", -1: "fail", 0: "inconclusive"}


@dataclass(frozen=True, slots=True)
class ComparisonRows:
    """Many comparisons (variant × metric) ready for the read-out; flag lists are filled by the route."""

    variant: Sequence[str]
    n: Sequence[int]
    mean: FloatArray
    baseline_mean: FloatArray
    absolute: LiftArrays
    relative: LiftArrays
    method: Sequence[str]
    sequential: BoolArray
    lower_is_better: BoolArray
    guardrail: BoolArray
    margin: FloatArray
    theta: FloatArray
    flags_absolute: list[list[Flag]]
    flags_relative: list[list[Flag]]


def side_flags_add(
    *,
    rows_flags: tuple[list[list[Flag]], list[list[Flag]]],
    names: Sequence[str],
    n: FloatArray,
    variance: FloatArray,
    check_variance: bool = True,
    check_counts: bool = True,
) -> None:
    """Add NO_UNITS / TOO_FEW_UNITS / ZERO_VARIANCE flags of one side (baseline or variant) to both scales."""
    for i in np.flatnonzero((n == 0) & check_counts).tolist():
        for flags in rows_flags:
            flags[i].append(flag_make(FlagCode.NO_UNITS, variant=names[i]))
    for i in np.flatnonzero((n == 1) & check_counts).tolist():
        for flags in rows_flags:
            flags[i].append(flag_make(FlagCode.TOO_FEW_UNITS, variant=names[i], n=1))
    if check_variance:
        for i in np.flatnonzero((n > 1) & ~(variance > 0)).tolist():
            for flags in rows_flags:
                if not _blocked(flags[i]):
                    flags[i].append(flag_make(FlagCode.ZERO_VARIANCE, variant=names[i]))


def baseline_sign_flags_add(*, flags_relative: list[list[Flag]], baseline_mean: FloatArray) -> None:
    """Withhold relative lifts over a zero or negative baseline mean."""
    for code, mask in (
        (FlagCode.ZERO_BASELINE, baseline_mean == 0),
        (FlagCode.NEGATIVE_BASELINE, baseline_mean < 0),
    ):
        for i in np.flatnonzero(mask).tolist():
            if not _blocked(flags_relative[i]):
                flags_relative[i].append(flag_make(code))


def _blocked(flags: list[Flag]) -> bool:
    return any(f.code in BLOCKING for f in flags)


def _finish_flags(lift: LiftArrays, flags: list[list[Flag]], names: Sequence[str]) -> BoolArray:
    undefined = ~np.isfinite(lift.estimate) | ~(lift.variance > 0) | ~np.isfinite(lift.variance)
    for i in np.flatnonzero(undefined).tolist():
        if not _blocked(flags[i]):
            flags[i].append(flag_make(FlagCode.ZERO_VARIANCE, variant=names[i]))
    return np.array([bool(f) and _blocked(f) for f in flags], dtype=np.bool_)


def _withheld(values: FloatArray, blocked: BoolArray) -> list[float | None]:
    out = values.astype(np.float64, copy=True)
    out[blocked] = np.nan
    return optional_floats(out)


def _verdicts(
    p_value: FloatArray, estimate: FloatArray, blocked: BoolArray, lower_is_better: BoolArray, alpha: float
) -> tuple[list[bool | None], list[Outcome | None]]:
    significant = p_value < alpha
    better = significant & ((estimate > 0) != lower_is_better)
    outcome = np.where(better, "better", np.where(significant, "worse", "inconclusive")).astype(object)
    outcome[blocked] = None
    flags = significant.astype(object)
    flags[blocked] = None
    return flags.tolist(), outcome.tolist()


def variant_results_build(*, rows: ComparisonRows, settings: AnalysisSettings) -> list[VariantResult]:
    """One `VariantResult` per comparison row, with numbers withheld wherever a blocking flag applies."""
    alpha = settings.alpha
    prior = settings.prior
    blocked_abs = _finish_flags(rows.absolute, rows.flags_absolute, rows.variant)
    blocked_rel = _finish_flags(rows.relative, rows.flags_relative, rows.variant)
    scales: list[tuple[Difference, LiftArrays, BoolArray, list[list[Flag]]]] = [
        ("absolute", rows.absolute, blocked_abs, rows.flags_absolute),
        ("relative", rows.relative, blocked_rel, rows.flags_relative),
    ]
    sequential = rows.sequential
    methods = [f"{m}+sequential" if s else m for m, s in zip(rows.method, sequential.tolist(), strict=True)]
    prior_scale = np.abs(rows.baseline_mean)
    built: dict[Difference, list[Comparison]] = {}
    for difference, lift, blocked, flags in scales:
        fixed = welch_interval(estimate=lift.estimate, variance=lift.variance, dof=lift.dof, alpha=alpha)
        seq = sequential_interval(
            estimate=lift.estimate,
            variance=lift.variance,
            n_total=lift.n_total,
            alpha=alpha,
            tuning=settings.sequential_tuning,
        )
        low = np.where(sequential, seq.low, fixed.low)
        high = np.where(sequential, seq.high, fixed.high)
        p_value = np.where(sequential, seq.p_value, fixed.p_value)
        scale = prior_scale if difference == "absolute" else np.ones_like(prior_scale)
        # A relative prior cannot be put on the absolute scale of a zero baseline: that row gets a flat prior.
        prior_variance = np.where(scale > 0, prior.std_dev**2 * scale**2, np.inf)
        post = posterior_compute(
            estimate=lift.estimate,
            variance=lift.variance,
            prior_mean=np.where(scale > 0, prior.mean * scale, 0.0),
            prior_variance=prior_variance,
            proper=prior.proper,
            alpha=alpha,
            lower_is_better=rows.lower_is_better,
        )
        posteriors = [
            Posterior(prior, *values)
            for values in zip(
                *(
                    _withheld(column, blocked)
                    for column in (
                        post.mean,
                        post.std_dev,
                        post.low,
                        post.high,
                        post.chance_to_win,
                        post.risk_variant,
                        post.risk_baseline,
                    )
                ),
                strict=True,
            )
        ]
        significant, outcome = _verdicts(p_value, lift.estimate, blocked, rows.lower_is_better, alpha)
        built[difference] = [
            Comparison(difference, *values)
            for values in zip(
                methods,
                _withheld(lift.estimate, blocked),
                _withheld(np.sqrt(np.abs(lift.variance)), blocked),
                _withheld(low, blocked),
                _withheld(high, blocked),
                _withheld(p_value, blocked),
                _withheld(np.where(sequential, np.nan, lift.dof), blocked),
                significant,
                outcome,
                posteriors,
                [tuple(f) for f in flags],
                strict=True,
            )
        ]
    guardrails = _guardrails_build(rows=rows, blocked=blocked_rel, settings=settings)
    return [
        VariantResult(*values)
        for values in zip(
            rows.variant,
            rows.n,
            optional_floats(rows.mean),
            built["absolute"],
            built["relative"],
            guardrails,
            optional_floats(rows.theta),
            strict=True,
        )
    ]


def _guardrails_build(
    *, rows: ComparisonRows, blocked: BoolArray, settings: AnalysisSettings
) -> list[GuardrailVerdict | None]:
    out: list[GuardrailVerdict | None] = [None] * len(rows.variant)
    index = np.flatnonzero(rows.guardrail)
    if index.size == 0:
        return out
    lift = rows.relative
    arrays = guardrail_arrays(
        lift=LiftArrays(
            estimate=lift.estimate[index],
            variance=lift.variance[index],
            dof=lift.dof[index],
            n_total=lift.n_total[index],
        ),
        margin=rows.margin[index],
        lower_is_better=rows.lower_is_better[index],
        sequential=rows.sequential[index],
        alpha=settings.alpha,
        tuning=settings.sequential_tuning,
    )
    sub_blocked = blocked[index]
    bounds = _withheld(arrays.bound, sub_blocked)
    p_values = _withheld(arrays.p_value, sub_blocked)
    for j, i in enumerate(index.tolist()):
        method = "mixture_sprt" if rows.sequential[i] else "welch_one_sided"
        out[i] = GuardrailVerdict(
            verdict="unavailable" if sub_blocked[j] else _VERDICTS[int(arrays.verdict[j])],
            margin=float(rows.margin[i]),
            bound=bounds[j],
            p_value=p_values[j],
            method=method,
            flags=tuple(rows.flags_relative[i]),
        )
    return out
