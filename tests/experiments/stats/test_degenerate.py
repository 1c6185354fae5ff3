"""Degenerate inputs give a flag with a reason and no number; warnings keep the number."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.stats import (
    Comparison,
    FlagCode,
    MetricResult,
    MetricSpec,
    QuantileStats,
    VariantStats,
    metric_analyse,
    srm_check,
)
from experiments.stats.flags import BLOCKING, MESSAGES


def codes(comparison: Comparison) -> list[FlagCode]:
    return [f.code for f in comparison.flags]


def numbers(comparison: Comparison) -> tuple[float | None, ...]:
    post = comparison.posterior
    return (
        comparison.estimate,
        comparison.std_error,
        comparison.ci_low,
        comparison.ci_high,
        comparison.p_value,
        post.mean,
        post.chance_to_win,
        post.risk_variant,
    )


def withheld(comparison: Comparison) -> bool:
    return all(x is None for x in numbers(comparison)) and comparison.significant is None


def analyse(kind: str, *rows: VariantStats | QuantileStats, **spec: object) -> MetricResult:
    return metric_analyse(spec=MetricSpec("m", kind, **spec), rows=rows, baseline="A")  # type: ignore[arg-type]


GOOD = VariantStats("B", 100, 520.0, 3000.0)


def test_a_variant_without_units_is_flagged_by_name() -> None:
    result = analyse("mean", VariantStats("A", 100, 500.0, 2800.0), VariantStats("B", 0, 0.0, 0.0))
    comparison = result.variant("B").absolute
    assert codes(comparison) == [FlagCode.NO_UNITS]
    assert withheld(comparison)
    assert comparison.flags[0].reason.startswith("B has no units")
    assert comparison.flags[0].blocking


def test_a_missing_baseline_row_means_the_baseline_has_no_units() -> None:
    result = metric_analyse(spec=MetricSpec("m", "mean"), rows=[GOOD], baseline="A")
    assert result.baseline.n == 0
    assert result.baseline.mean is None
    assert FlagCode.NO_UNITS in codes(result.variant("B").relative)


def test_one_unit_has_no_variance() -> None:
    result = analyse("mean", VariantStats("A", 1, 5.0, 25.0), GOOD)
    assert codes(result.variant("B").absolute) == [FlagCode.TOO_FEW_UNITS]
    assert "only 1 unit" in result.variant("B").absolute.flags[0].reason


def test_constant_values_have_zero_variance() -> None:
    result = analyse("mean", VariantStats("A", 50, 250.0, 1250.0), GOOD)
    assert codes(result.variant("B").absolute) == [FlagCode.ZERO_VARIANCE]
    assert withheld(result.variant("B").absolute)


def test_zero_baseline_withholds_only_the_relative_lift() -> None:
    # Baseline values −1 and +1: mean 0 with variance, so the absolute difference is well defined.
    result = analyse("mean", VariantStats("A", 100, 0.0, 100.0), GOOD)
    variant = result.variant("B")
    assert codes(variant.relative) == [FlagCode.ZERO_BASELINE]
    assert withheld(variant.relative)
    assert variant.absolute.flags == ()
    assert variant.absolute.estimate == pytest.approx(5.2)
    assert variant.absolute.p_value is not None


def test_negative_baseline_withholds_the_relative_lift() -> None:
    result = analyse("mean", VariantStats("A", 100, -500.0, 2800.0), GOOD)
    assert codes(result.variant("B").relative) == [FlagCode.NEGATIVE_BASELINE]
    assert result.variant("B").absolute.p_value is not None


def test_zero_denominator_is_named() -> None:
    base = VariantStats("A", 100, 500.0, 2800.0, 200.0, 450.0, 1100.0)
    empty_denominator = VariantStats("B", 100, 0.0, 0.0, 0.0, 0.0, 0.0)
    comparison = analyse("ratio", base, empty_denominator).variant("B").absolute
    assert codes(comparison) == [FlagCode.ZERO_DENOMINATOR]
    assert "denominator sums to zero" in comparison.flags[0].reason


def test_broken_numbers_from_the_query_are_flagged() -> None:
    comparison = analyse("mean", VariantStats("A", 100, float("nan"), 2800.0), GOOD).variant("B").absolute
    assert FlagCode.NON_FINITE_INPUT in codes(comparison)
    assert withheld(comparison)


def test_undersampled_quantile_says_how_many_observations_it_needs() -> None:
    row_a = QuantileStats("A", 150, 100, 80.0, 70.0, 95.0)
    row_b = QuantileStats("B", 150, 100, 78.0, 69.0, 93.0)
    comparison = analyse("quantile", row_a, row_b, quantile_level=0.99).variant("B").absolute
    assert codes(comparison)[0] == FlagCode.QUANTILE_UNDERSAMPLED
    assert "P99" in comparison.flags[0].reason
    assert "380" in comparison.flags[0].reason


def test_collapsed_quantile_bracket_is_flagged_even_on_large_samples() -> None:
    row_a = QuantileStats("A", 50_000, 25_600, 30.0, 30.0, 30.0)
    row_b = QuantileStats("B", 50_000, 25_600, 31.0, 30.5, 31.5)
    comparison = analyse("quantile", row_a, row_b, quantile_level=0.5).variant("B").absolute
    assert codes(comparison) == [FlagCode.QUANTILE_BRACKET_COLLAPSED]


def test_cuped_without_covariate_variance_warns_and_keeps_numbers() -> None:
    constant = {"covariate_sum": 200.0, "covariate_sum_squares": 400.0}
    base = VariantStats("A", 100, 500.0, 2800.0, **constant, main_covariate_sum_product=1000.0)
    variant = VariantStats("B", 100, 520.0, 3000.0, **constant, main_covariate_sum_product=1040.0)
    comparison = analyse("mean", base, variant, cuped=True).variant("B").absolute
    assert codes(comparison) == [FlagCode.CUPED_NO_COVARIATE_VARIANCE]
    assert not comparison.flags[0].blocking
    assert comparison.p_value is not None


def test_cuped_on_a_ratio_metric_is_a_metric_level_warning() -> None:
    base = VariantStats("A", 100, 500.0, 2800.0, 200.0, 450.0, 1100.0)
    variant = VariantStats("B", 100, 520.0, 3000.0, 210.0, 470.0, 1150.0)
    result = analyse("ratio", base, variant, cuped=True)
    assert [f.code for f in result.flags] == [FlagCode.CUPED_UNAVAILABLE]
    assert "ratio metrics" in result.flags[0].reason
    assert result.variant("B").absolute.p_value is not None


def test_identical_strategies_in_a_paired_run_are_not_a_test() -> None:
    variant = VariantStats(
        "B",
        50,
        400.0,
        3600.0,
        covariate_sum=400.0,
        covariate_sum_squares=3600.0,
        main_covariate_sum_product=3600.0,
    )
    result = metric_analyse(spec=MetricSpec("m", "mean"), rows=[variant], baseline="A", design="paired")
    comparison = result.variant("B").absolute
    assert codes(comparison) == [FlagCode.NO_PAIRED_DIFFERENCE]
    assert "B and A gave the same value" in comparison.flags[0].reason


def test_paired_ratio_metrics_are_refused_with_a_reason() -> None:
    row = VariantStats("B", 50, 400.0, 3600.0, 100.0, 220.0, 900.0, 380.0, 3000.0, 3100.0)
    result = metric_analyse(spec=MetricSpec("m", "ratio"), rows=[row], baseline="A", design="paired")
    comparison = result.variant("B").absolute
    assert codes(comparison) == [FlagCode.PAIRED_UNSUPPORTED]
    assert withheld(comparison)


def test_sample_ratio_mismatch_flags_the_metric_but_keeps_the_numbers() -> None:
    result = metric_analyse(
        spec=MetricSpec("m", "mean"),
        rows=[VariantStats("A", 5000, 25000.0, 140000.0), VariantStats("B", 5400, 27500.0, 155000.0)],
        baseline="A",
    )
    assert result.srm is not None
    assert result.srm.mismatch
    assert [f.code for f in result.flags] == [FlagCode.SAMPLE_RATIO_MISMATCH]
    assert result.variant("B").absolute.p_value is not None
    assert srm_check(counts={"A": 0, "B": 0}).p_value is None


def test_results_are_frozen_and_serialise_to_strict_json() -> None:
    result = analyse(
        "mean", VariantStats("A", 100, 0.0, 100.0), GOOD, guardrail=True, non_inferiority_margin=0.02
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.variant("B").absolute.estimate = 1.0  # type: ignore[misc]
    json.dumps(dataclasses.asdict(result), allow_nan=False)


row_values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@st.composite
def variant_rows(draw: st.DrawFn, name: str) -> VariantStats:
    n = draw(st.integers(min_value=0, max_value=5))
    values = draw(st.lists(row_values, min_size=n, max_size=n))
    if draw(st.booleans()) and values:
        values = [values[0]] * n  # constant: zero variance
    return VariantStats(name, n, math.fsum(values), math.fsum(v * v for v in values))


@settings(max_examples=300, deadline=None)
@given(variant_rows("A"), variant_rows("B"), st.sampled_from(["mean", "proportion"]))
def test_a_number_is_withheld_exactly_when_a_blocking_flag_says_why(
    base: VariantStats, variant: VariantStats, kind: str
) -> None:
    result = analyse(kind, base, variant, sequential=kind == "proportion")
    for comparison in (result.variant("B").absolute, result.variant("B").relative):
        blocked = any(f.blocking for f in comparison.flags)
        assert blocked == withheld(comparison), comparison
        for x in numbers(comparison):
            assert x is None or math.isfinite(x)
        assert all(f.reason and "{" not in f.reason for f in comparison.flags)


def test_the_statistics_docs_quote_every_flag_with_its_message_and_kind() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "statistics.md").read_text()
    for code, message in MESSAGES.items():
        kind = "blocking" if code in BLOCKING else "warning"
        assert f"| `{code.value}` | {kind} | {message} |" in docs, code
