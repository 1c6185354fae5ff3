"""What the scorecard and the leaderboard say: outcomes, guardrail verdicts, discoveries and planning."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.stats import (
    AnalysisSettings,
    FlagCode,
    GaussianPrior,
    MetricInput,
    MetricSpec,
    VariantStats,
    leaderboard_compute,
    mde_compute,
    metric_analyse,
    p_values_adjust,
    planning_baseline,
    power_compute,
    sample_size_compute,
    scorecard_compute,
)


def stats_row(name: str, n: int, mean: float, sd: float) -> VariantStats:
    """Sums of n units with exactly this mean and sample standard deviation."""
    total = n * mean
    return VariantStats(name, n, total, sd**2 * (n - 1) + total**2 / n)


def test_a_significant_drop_is_better_when_lower_is_better() -> None:
    rows = [stats_row("A", 2000, 32.0, 8.0), stats_row("B", 2000, 30.0, 8.0)]
    down = metric_analyse(spec=MetricSpec("minutes", "mean", direction="decrease"), rows=rows, baseline="A")
    up = metric_analyse(spec=MetricSpec("orders", "mean"), rows=rows, baseline="A")
    assert down.variant("B").relative.outcome == "better"
    assert up.variant("B").relative.outcome == "worse"
    assert down.variant("B").relative.posterior.chance_to_win == pytest.approx(1.0)
    assert down.variant("B").relative.posterior.risk_variant == pytest.approx(0.0, abs=1e-12)


def test_a_proper_prior_shrinks_the_lift_towards_its_mean() -> None:
    rows = [stats_row("A", 200, 30.0, 8.0), stats_row("B", 200, 33.0, 8.0)]
    flat = metric_analyse(spec=MetricSpec("m", "mean"), rows=rows, baseline="A").variant("B").relative
    shrunk = (
        metric_analyse(
            spec=MetricSpec("m", "mean"),
            rows=rows,
            baseline="A",
            settings=AnalysisSettings(prior=GaussianPrior(mean=0.0, std_dev=0.02, proper=True)),
        )
        .variant("B")
        .relative
    )
    assert flat.posterior.mean == pytest.approx(flat.estimate)
    assert shrunk.posterior.mean is not None
    assert flat.posterior.mean is not None
    assert 0 < shrunk.posterior.mean < flat.posterior.mean
    assert shrunk.estimate == flat.estimate


def test_sequential_intervals_are_wider_and_narrowest_relative_to_fixed_near_the_tuning() -> None:
    widths = []
    for n in (250, 2500, 25000):
        rows = [stats_row("A", n, 30.0, 8.0), stats_row("B", n, 30.5, 8.0)]
        seq = (
            metric_analyse(
                spec=MetricSpec("m", "mean", sequential=True),
                rows=rows,
                baseline="A",
                settings=AnalysisSettings(sequential_tuning=5000),
            )
            .variant("B")
            .absolute
        )
        fixed = metric_analyse(spec=MetricSpec("m", "mean"), rows=rows, baseline="A").variant("B").absolute
        assert seq.method == "welch_t+sequential"
        assert seq.dof is None
        assert seq.ci_low is not None
        assert seq.ci_high is not None
        assert fixed.ci_low is not None
        assert fixed.ci_high is not None
        widths.append((seq.ci_high - seq.ci_low) / (fixed.ci_high - fixed.ci_low))
    assert all(w > 1 for w in widths)
    assert widths[1] < widths[0]
    assert widths[1] < widths[2]


@pytest.mark.parametrize(
    ("mean_b", "verdict"),
    [(30.0, "pass"), (30.0 * 0.99, "pass"), (30.0 * 0.98, "inconclusive"), (30.0 * 0.97, "fail")],
)
def test_guardrail_verdicts_against_a_two_percent_margin(mean_b: float, verdict: str) -> None:
    spec = MetricSpec("completion", "mean", guardrail=True, non_inferiority_margin=0.02)
    rows = [stats_row("A", 20000, 30.0, 4.0), stats_row("B", 20000, mean_b, 4.0)]
    guardrail = metric_analyse(spec=spec, rows=rows, baseline="A").variant("B").guardrail
    assert guardrail is not None
    assert guardrail.verdict == verdict
    assert guardrail.margin == 0.02


def test_sequential_guardrail_is_more_cautious() -> None:
    rows = [stats_row("A", 4000, 30.0, 4.0), stats_row("B", 4000, 29.65, 4.0)]
    fixed = MetricSpec("m", "mean", guardrail=True, non_inferiority_margin=0.02)
    seq = MetricSpec("m", "mean", guardrail=True, non_inferiority_margin=0.02, sequential=True)
    fixed_verdict = metric_analyse(spec=fixed, rows=rows, baseline="A").variant("B").guardrail
    seq_verdict = metric_analyse(spec=seq, rows=rows, baseline="A").variant("B").guardrail
    assert fixed_verdict is not None
    assert seq_verdict is not None
    assert fixed_verdict.verdict == "pass"
    assert seq_verdict.verdict == "inconclusive"
    assert seq_verdict.method == "mixture_sprt"


def test_leaderboard_ranks_best_first_and_controls_discoveries() -> None:
    rng = np.random.default_rng(4)
    rows = [stats_row("A", 1000, 30.0, 8.0)]
    true_winners = {f"s{i}" for i in range(5)}
    for i in range(100):
        lift = 2.0 if f"s{i}" in true_winners else 0.0
        rows.append(stats_row(f"s{i}", 1000, 30.0 - lift + rng.normal(0, 0.35), 8.0))
    rows.append(VariantStats("broken", 0, 0.0, 0.0))
    result = metric_analyse(spec=MetricSpec("minutes", "mean", direction="decrease"), rows=rows, baseline="A")
    board = leaderboard_compute(result=result, correction="bh")
    assert [r.rank for r in board.rows] == list(range(1, 102))
    estimates = [r.estimate for r in board.rows if r.estimate is not None]
    assert estimates == sorted(estimates)  # lower is better: most negative first
    assert board.rows[-1].variant == "broken"
    assert board.rows[-1].adjusted_p_value is None
    discovered = {r.variant for r in board.rows if r.discovery}
    assert discovered == true_winners
    raw = {r.variant for r in board.rows if r.p_value is not None and r.p_value < 0.05}
    assert raw > discovered  # picking by raw p-values also "finds" null strategies
    expected = p_values_adjust([v.relative.p_value for v in result.variants], method="bh")
    by_name = {v.variant: q for v, q in zip(result.variants, expected, strict=True)}
    assert all(r.adjusted_p_value == by_name[r.variant] for r in board.rows)
    holm = leaderboard_compute(result=result, correction="holm")
    assert holm.discoveries <= board.discoveries


def test_leaderboard_without_any_test_says_so() -> None:
    result = metric_analyse(spec=MetricSpec("m", "mean"), rows=[VariantStats("B", 0, 0.0, 0.0)], baseline="A")
    board = leaderboard_compute(result=result)
    assert [f.code for f in board.flags] == [FlagCode.NO_TESTS]
    assert board.discoveries == 0


def test_scorecard_reads_every_metric_and_the_experiment_split() -> None:
    rows = (stats_row("A", 1000, 30.0, 8.0), stats_row("B", 1000, 29.0, 8.0))
    late = (VariantStats("A", 1000, 120.0, 120.0), VariantStats("B", 1000, 95.0, 95.0))
    card = scorecard_compute(
        metrics=[
            MetricInput(MetricSpec("minutes", "mean", direction="decrease"), rows),
            MetricInput(MetricSpec("late", "proportion", direction="decrease"), late),
        ],
        baseline="A",
        assignments={"A": 1000, "B": 1000},
    )
    assert [m.spec.key for m in card.metrics] == ["minutes", "late"]
    assert card.metric("late").variant("B").relative.estimate == pytest.approx(95 / 120 - 1)
    assert card.srm is not None
    assert card.srm.p_value == pytest.approx(1.0)
    with pytest.raises(KeyError):
        card.metric("unknown")


def test_mde_and_sample_size_are_consistent_and_scale_with_the_design_effect() -> None:
    mde = mde_compute(std_dev=8.0, n_a=2000, n_b=2000, baseline_mean=30.0)
    assert mde.absolute is not None
    assert mde.relative is not None
    assert mde.relative == pytest.approx(mde.absolute / 30.0)
    size = sample_size_compute(effect=mde.absolute, std_dev=8.0)
    assert size.n_a == pytest.approx(2000, rel=1e-6)
    assert power_compute(effect=mde.absolute, std_dev=8.0, n_a=2000, n_b=2000) == pytest.approx(0.8, abs=1e-9)
    clustered = mde_compute(std_dev=8.0, n_a=8000, n_b=8000, design_effect=4.0)
    assert clustered.absolute == pytest.approx(mde.absolute)
    assert sample_size_compute(effect=mde.absolute, std_dev=8.0, design_effect=4.0).n_a == pytest.approx(
        8000, rel=1e-6
    )


def test_planning_from_history_and_its_flags() -> None:
    baseline = planning_baseline(stats=stats_row("A", 500, 30.0, 8.0), kind="mean")
    assert baseline.mean == pytest.approx(30.0)
    assert baseline.std_dev == pytest.approx(8.0)
    empty = planning_baseline(stats=VariantStats("A", 0, 0.0, 0.0), kind="mean")
    assert [f.code for f in empty.flags] == [FlagCode.NO_UNITS]
    assert empty.std_dev is None
    degenerate = mde_compute(std_dev=0.0, n_a=100, n_b=100)
    assert degenerate.absolute is None
    assert [f.code for f in degenerate.flags] == [FlagCode.ZERO_VARIANCE]
    negative = mde_compute(std_dev=1.0, n_a=100, n_b=100, baseline_mean=-3.0)
    assert negative.absolute is not None
    assert negative.relative is None
    assert [f.code for f in negative.flags] == [FlagCode.NEGATIVE_BASELINE]


def test_specs_refuse_contradictions() -> None:
    with pytest.raises(ValueError, match="quantile_level"):
        MetricSpec("p90", "quantile")
    with pytest.raises(ValueError, match="margin"):
        MetricSpec("m", "mean", non_inferiority_margin=-0.01)
    with pytest.raises(ValueError, match="alpha"):
        AnalysisSettings(alpha=1.5)
    with pytest.raises(ValueError, match="denominator"):
        metric_analyse(spec=MetricSpec("r", "ratio"), rows=[VariantStats("A", 10, 1.0, 1.0)], baseline="A")


def test_rows_accept_growthbook_column_names() -> None:
    row = VariantStats.from_row(
        {"variation": "B", "users": 10, "main_sum": 5.0, "main_sum_squares": 5.0, "denominator_sum": None}
    )
    assert row == VariantStats("B", 10, 5.0, 5.0)
    assert not row.has_denominator
