"""Calibration on simulated data: 2,000 A/A splits per method, and interval coverage under a known lift.

A method is calibrated when its false-positive rate over 2,000 A/A splits lies inside the central 99.9 %
binomial interval of its nominal level, and its 95 % intervals cover the true effect at a rate inside the
same kind of interval around 95 %. Always-valid (sequential) methods promise at most α, so only their upper
bound is checked, also under peeking. Negative controls show that the check catches a miscalibrated method
(peeking with a fixed-sample test, order-level errors on switchback data, a unit-level quantile on
clustered data, uncorrected picking of a winner). Seeds are fixed.

The 2,000 splits run through the vectorised kernels that `scorecard_compute` routes to; for every method
the first replicates also go through `scorecard_compute` itself, which must give the same numbers, so the
calibration holds for what pages show.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from experiments.stats import AnalysisSettings, CellStats, MetricInput, MetricSpec, scorecard_compute
from experiments.stats.bayesian import posterior_compute
from experiments.stats.cuped import CupedSide, cuped_moments
from experiments.stats.frequentist import welch_interval
from experiments.stats.guardrail import guardrail_arrays
from experiments.stats.lift import LiftArrays, lift_compute
from experiments.stats.moments import Moments, mean_moments, proportion_moments
from experiments.stats.multiple import adjusted_p_values
from experiments.stats.paired import paired_lifts
from experiments.stats.quantile import quantile_moments
from experiments.stats.ratio import ratio_moments
from experiments.stats.sequential import sequential_interval
from experiments.stats.srm import srm_p_values
from experiments.stats.switchback import switchback_analyse
from tests.experiments.stats.simulation import (
    cuped_inputs,
    mean_inputs,
    paired_inputs,
    quantile_columns,
    quantile_inputs,
    ratio_inputs,
    switchback_cells,
    switchback_inputs,
)

FloatArray = np.ndarray
SPLITS = 2000
ALPHA = 0.05
CHECKED = 40  # replicates also analysed through scorecard_compute


def interval(rate: float, trials: int = SPLITS) -> tuple[float, float]:
    """Central 99.9 % binomial interval of an observed rate when the true rate is `rate`."""
    low, high = stats.binom.ppf([0.0005, 0.9995], trials, rate)
    return float(low) / trials, float(high) / trials


def assert_nominal(rate: float, nominal: float) -> None:
    low, high = interval(nominal)
    assert low <= rate <= high, f"rate {rate:.4f} outside [{low:.4f}, {high:.4f}] around {nominal}"


def fpr(p_value: FloatArray) -> float:
    assert np.isfinite(p_value).all(), "a simulated split produced no p-value"
    return float(np.mean(p_value < ALPHA))


def covered(low: FloatArray, high: FloatArray, truth: float | FloatArray) -> float:
    return float(np.mean((low <= truth) & (truth <= high)))


def sums_moments(y: FloatArray, proportion: bool = False) -> Moments:
    n = np.full(y.shape[0], float(y.shape[1]))
    if proportion:
        return proportion_moments(n=n, total=y.sum(axis=1))
    return mean_moments(n=n, total=y.sum(axis=1), sum_squares=(y * y).sum(axis=1))


def welch(
    a: Moments, b: Moments, relative: bool = False
) -> tuple[LiftArrays, FloatArray, FloatArray, FloatArray]:
    lift = lift_compute(a, b, relative=relative)
    result = welch_interval(estimate=lift.estimate, variance=lift.variance, dof=lift.dof, alpha=ALPHA)
    return lift, result.p_value, result.low, result.high


def assert_public_path_agrees(
    metrics: list[MetricInput], p_value: FloatArray, difference: str = "absolute", **kwargs: object
) -> None:
    """The same replicates through scorecard_compute give the kernels' p-values."""
    card = scorecard_compute(metrics=metrics[:CHECKED], baseline="v0", **kwargs)  # type: ignore[arg-type]
    ours = np.array([getattr(m.variants[0], difference).p_value for m in card.metrics], dtype=float)
    np.testing.assert_allclose(ours, p_value[:CHECKED], rtol=1e-12, atol=1e-15)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240917)


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
def test_welch_mean_is_calibrated(rng: np.random.Generator, relative: bool) -> None:
    a, b = rng.gamma(2, 5, (SPLITS, 300)), rng.gamma(2, 5, (SPLITS, 300))
    _, p, _, _ = welch(sums_moments(a), sums_moments(b), relative)
    assert_nominal(fpr(p), ALPHA)
    assert_public_path_agrees(
        mean_inputs(MetricSpec("m", "mean"), [a, b]), p, "relative" if relative else "absolute"
    )
    lifted = rng.gamma(2, 5, (SPLITS, 300)) * 1.1
    _, _, low, high = welch(sums_moments(a), sums_moments(lifted), relative)
    assert_nominal(covered(low, high, 0.1 if relative else 1.0), 0.95)


def test_proportion_is_calibrated(rng: np.random.Generator) -> None:
    a, b = (rng.random((SPLITS, 600)) < 0.15) * 1.0, (rng.random((SPLITS, 600)) < 0.15) * 1.0
    _, p, _, _ = welch(sums_moments(a, True), sums_moments(b, True))
    assert_nominal(fpr(p), ALPHA)
    assert_public_path_agrees(mean_inputs(MetricSpec("late", "proportion"), [a, b]), p)
    lifted = (rng.random((SPLITS, 600)) < 0.18) * 1.0
    _, _, low, high = welch(sums_moments(a, True), sums_moments(lifted, True), relative=True)
    assert_nominal(covered(low, high, 0.2), 0.95)


def test_ratio_delta_method_is_calibrated(rng: np.random.Generator) -> None:
    def arm(per_order: float) -> tuple[FloatArray, FloatArray]:
        d = rng.poisson(3, (SPLITS, 400)) + 1.0
        return d * rng.normal(per_order, 5, (SPLITS, 400)), d

    def moments(m: FloatArray, d: FloatArray) -> Moments:
        return ratio_moments(
            n=np.full(SPLITS, 400.0),
            main_sum=m.sum(axis=1),
            main_sum_squares=(m * m).sum(axis=1),
            denominator_sum=d.sum(axis=1),
            denominator_sum_squares=(d * d).sum(axis=1),
            main_denominator_sum_product=(m * d).sum(axis=1),
        )

    a, b = arm(30), arm(30)
    _, p, _, _ = welch(moments(*a), moments(*b))
    assert_nominal(fpr(p), ALPHA)
    assert_public_path_agrees(ratio_inputs(MetricSpec("minutes_per_order", "ratio"), [a, b]), p)
    _, _, low, high = welch(moments(*a), moments(*arm(31.5)), relative=True)
    assert_nominal(covered(low, high, 0.05), 0.95)


def test_cuped_is_calibrated_and_narrower(rng: np.random.Generator) -> None:
    def arm(shift: float) -> tuple[FloatArray, FloatArray]:
        x = rng.gamma(4, 5, (SPLITS, 300))
        return 0.8 * x + rng.normal(10 + shift, 5, (SPLITS, 300)), x

    def side(y: FloatArray, x: FloatArray) -> CupedSide:
        return CupedSide(
            n=np.full(SPLITS, 300.0),
            post_sum=y.sum(axis=1),
            post_sum_squares=(y * y).sum(axis=1),
            pre_sum=x.sum(axis=1),
            pre_sum_squares=(x * x).sum(axis=1),
            post_pre_sum_product=(y * x).sum(axis=1),
        )

    a, b = arm(0), arm(0)
    adjusted = cuped_moments(a=side(*a), b=side(*b), proportion=False)
    lift, p, _, _ = welch(adjusted.a, adjusted.b)
    assert_nominal(fpr(p), ALPHA)
    assert_public_path_agrees(cuped_inputs(MetricSpec("m", "mean", cuped=True), [a, b]), p)
    plain, _, _, _ = welch(sums_moments(a[0]), sums_moments(b[0]))
    # Var(y) = 0.8²·Var(x) + 25 with Var(x) = 100, so ρ² = 64/89 and the error shrinks by sqrt(1 − ρ²).
    shrink = np.median(np.sqrt(lift.variance / plain.variance))
    assert shrink == pytest.approx(np.sqrt(1 - 64 / 89), abs=0.02)
    lifted = cuped_moments(a=side(*a), b=side(*arm(1.0)), proportion=False)
    _, _, low, high = welch(lifted.a, lifted.b)
    assert_nominal(covered(low, high, 1.0), 0.95)


def quantile_side(y: FloatArray, level: float, clusters: np.ndarray | None = None) -> Moments:
    rows = quantile_columns(y, level, clusters)

    def col(name: str) -> FloatArray:
        return np.array([r.get(name, np.nan) for r in rows], dtype=float)

    return quantile_moments(
        level=np.full(len(rows), level),
        quantile_n=col("quantile_n"),
        quantile_nstar=col("quantile_nstar"),
        quantile=col("quantile"),
        lower=col("quantile_lower"),
        upper=col("quantile_upper"),
        clusters=col("n"),
        main_sum=col("main_sum"),
        main_sum_squares=col("main_sum_squares"),
        denominator_sum=col("denominator_sum"),
        denominator_sum_squares=col("denominator_sum_squares"),
        main_denominator_sum_product=col("main_denominator_sum_product"),
    ).moments


@pytest.mark.parametrize("level", [0.5, 0.9])
def test_quantile_is_calibrated(rng: np.random.Generator, level: float) -> None:
    a, b = rng.exponential(30, (SPLITS, 1000)), rng.exponential(30, (SPLITS, 1000))
    _, p, _, _ = welch(quantile_side(a, level), quantile_side(b, level))
    assert_nominal(fpr(p), ALPHA)
    spec = MetricSpec("p", "quantile", quantile_level=level)
    assert_public_path_agrees(quantile_inputs(spec, [a[:CHECKED], b[:CHECKED]]), p)
    faster = rng.exponential(27, (SPLITS, 1000))
    _, _, low, high = welch(quantile_side(a, level), quantile_side(faster, level))
    assert_nominal(covered(low, high, -np.log(1 - level) * (27 - 30)), 0.95)


def test_clustered_quantile_is_calibrated_where_the_unit_quantile_is_not(rng: np.random.Generator) -> None:
    clusters = np.repeat(np.arange(100), 20)

    def arm() -> FloatArray:
        return 30 + rng.normal(0, 8, (SPLITS, 100))[:, clusters] + rng.exponential(10, (SPLITS, 2000))

    a, b = arm(), arm()
    _, p, _, _ = welch(quantile_side(a, 0.9, clusters), quantile_side(b, 0.9, clusters))
    assert_nominal(fpr(p), ALPHA)
    spec = MetricSpec("p90", "quantile", quantile_level=0.9)
    assert_public_path_agrees(quantile_inputs(spec, [a[:CHECKED], b[:CHECKED]], clusters), p)
    _, naive, _, _ = welch(quantile_side(a, 0.9), quantile_side(b, 0.9))
    assert fpr(naive) > interval(ALPHA)[1], "a unit-level quantile on clustered data should be overconfident"


def test_sequential_interval_stays_valid_under_peeking(rng: np.random.Generator) -> None:
    a, b = rng.normal(30, 8, (SPLITS, 1000)), rng.normal(30, 8, (SPLITS, 1000))
    ever_sequential = np.zeros(SPLITS, dtype=bool)
    ever_fixed = np.zeros(SPLITS, dtype=bool)
    for n in range(100, 1001, 100):
        lift, p_fixed, _, _ = welch(sums_moments(a[:, :n]), sums_moments(b[:, :n]))
        seq = sequential_interval(
            estimate=lift.estimate, variance=lift.variance, n_total=lift.n_total, alpha=ALPHA, tuning=1000
        )
        ever_sequential |= seq.p_value < ALPHA
        ever_fixed |= p_fixed < ALPHA
    assert ever_sequential.mean() <= interval(ALPHA)[1]
    assert ever_fixed.mean() > interval(ALPHA)[1], "peeking with a fixed-sample test should inflate errors"
    assert_public_path_agrees(
        mean_inputs(MetricSpec("m", "mean", sequential=True), [a, b]),
        seq.p_value,
        settings=AnalysisSettings(sequential_tuning=1000),
    )
    lift, _, _, _ = welch(sums_moments(a), sums_moments(b + 1.0))
    lifted = sequential_interval(
        estimate=lift.estimate, variance=lift.variance, n_total=lift.n_total, alpha=ALPHA, tuning=1000
    )
    assert covered(lifted.low, lifted.high, 1.0) >= interval(0.95)[0]


def test_bayesian_chance_to_win_is_calibrated_with_the_flat_prior(rng: np.random.Generator) -> None:
    def posterior(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        lift, _, _, _ = welch(sums_moments(a), sums_moments(b), relative=True)
        post = posterior_compute(
            estimate=lift.estimate,
            variance=lift.variance,
            prior_mean=np.zeros(SPLITS),
            prior_variance=np.full(SPLITS, 0.01),
            proper=False,
            alpha=ALPHA,
            lower_is_better=np.zeros(SPLITS, dtype=bool),
        )
        return post.chance_to_win, post.low, post.high

    a, b = rng.gamma(2, 5, (SPLITS, 300)), rng.gamma(2, 5, (SPLITS, 300))
    chance, _, _ = posterior(a, b)
    assert_nominal(float(np.mean((chance > 0.975) | (chance < 0.025))), ALPHA)
    card = scorecard_compute(
        metrics=mean_inputs(MetricSpec("m", "mean"), [a[:CHECKED], b[:CHECKED]]), baseline="v0"
    )
    ours = [m.variants[0].relative.posterior.chance_to_win for m in card.metrics]
    np.testing.assert_allclose(np.array(ours, dtype=float), chance[:CHECKED], rtol=1e-12)
    _, low, high = posterior(a, b * 1.1)
    assert_nominal(covered(low, high, 0.1), 0.95)


def test_paired_analysis_is_calibrated_and_narrower(rng: np.random.Generator) -> None:
    base = rng.gamma(4, 8, (SPLITS, 300))

    def paired(variant: FloatArray) -> tuple[LiftArrays, FloatArray, FloatArray, FloatArray]:
        lifts = paired_lifts(
            n=np.full(SPLITS, 300.0),
            variant_sum=variant.sum(axis=1),
            variant_sum_squares=(variant * variant).sum(axis=1),
            baseline_sum=base.sum(axis=1),
            baseline_sum_squares=(base * base).sum(axis=1),
            product_sum=(variant * base).sum(axis=1),
        ).absolute
        result = welch_interval(estimate=lifts.estimate, variance=lifts.variance, dof=lifts.dof, alpha=ALPHA)
        return lifts, result.p_value, result.low, result.high

    same_demand = base + rng.normal(0, 3, (SPLITS, 300))
    lift, p, _, _ = paired(same_demand)
    assert_nominal(fpr(p), ALPHA)
    assert_public_path_agrees(
        paired_inputs(MetricSpec("minutes", "mean"), base[:CHECKED], same_demand[:CHECKED]),
        p,
        design="paired",
    )
    unpaired, _, _, _ = welch(sums_moments(base), sums_moments(same_demand))
    assert np.median(np.sqrt(lift.variance / unpaired.variance)) < 0.25
    _, _, low, high = paired(same_demand + 0.5)
    assert_nominal(covered(low, high, 0.5), 0.95)


def cell_moments(assignment: np.ndarray, values: FloatArray, arm: int) -> tuple[Moments, Moments]:
    """Cells as units (the cell-sum ratio with cluster-robust variance), and orders as units (naive)."""
    orders = values.shape[2]
    member = (assignment == arm).astype(float)
    totals = values.sum(axis=2) * member
    cells = member.sum(axis=1)
    cell = ratio_moments(
        n=cells,
        main_sum=totals.sum(axis=1),
        main_sum_squares=(totals * totals).sum(axis=1),
        denominator_sum=cells * orders,
        denominator_sum_squares=cells * orders**2,
        main_denominator_sum_product=totals.sum(axis=1) * orders,
    )
    squares = ((values * values).sum(axis=2) * member).sum(axis=1)
    order = mean_moments(n=cells * orders, total=totals.sum(axis=1), sum_squares=squares)
    return cell, order


def test_switchback_cells_are_calibrated_and_orders_are_not(rng: np.random.Generator) -> None:
    assignment, values, _ = switchback_cells(
        rng, replicates=SPLITS, cells=96, orders=30, cell_sd=4.0, lift=0.0
    )
    (cell_a, order_a), (cell_b, order_b) = (
        cell_moments(assignment, values, 0),
        cell_moments(assignment, values, 1),
    )
    cell_lift, p, _, _ = welch(cell_a, cell_b)
    assert_nominal(fpr(p), ALPHA)
    assert_public_path_agrees(switchback_inputs(MetricSpec("minutes", "ratio"), assignment, values), p)
    order_lift, p_orders, _, _ = welch(order_a, order_b)
    assert fpr(p_orders) > 0.3, "order-level errors on switchback data should be far too small"
    assert np.median(np.sqrt(order_lift.variance / cell_lift.variance)) < 0.35
    assignment, values, _ = switchback_cells(
        rng, replicates=SPLITS, cells=96, orders=30, cell_sd=4.0, lift=0.05
    )
    _, _, low, high = welch(cell_moments(assignment, values, 0)[0], cell_moments(assignment, values, 1)[0])
    assert_nominal(covered(low, high, 1.5), 0.95)


def test_switchback_analyse_is_the_cell_level_ratio_analysis(rng: np.random.Generator) -> None:
    assignment, values, _ = switchback_cells(rng, replicates=5, cells=96, orders=30, cell_sd=4.0, lift=0.0)
    card = scorecard_compute(
        metrics=switchback_inputs(MetricSpec("m", "ratio"), assignment, values), baseline="v0"
    )
    for r in range(5):
        rows = [
            CellStats(
                f"v{assignment[r, c]}",
                f"z{c % 8}",
                (c // 8) * 3_600_000,
                30,
                float(v.sum()),
                float((v * v).sum()),
            )
            for c, v in enumerate(values[r])
        ]
        ours = (
            switchback_analyse(spec=MetricSpec("m", "mean"), cells=rows, baseline="v0").variant("v1").absolute
        )
        expected = card.metrics[r].variants[0].absolute
        assert ours.p_value == pytest.approx(expected.p_value, rel=1e-12)
        assert ours.std_error == pytest.approx(expected.std_error, rel=1e-12)


def test_srm_check_is_calibrated_under_a_correct_split(rng: np.random.Generator) -> None:
    counts = rng.multinomial(30000, [0.25, 0.25, 0.5], size=SPLITS).astype(float)
    _, p = srm_p_values(counts, np.array([1.0, 1.0, 2.0]))
    assert_nominal(float(np.mean(p < ALPHA)), ALPHA)
    assert_nominal(float(np.mean(p < 0.001)), 0.001)


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_corrections_control_errors_across_a_leaderboard(rng: np.random.Generator, method: str) -> None:
    arms = [rng.normal(30, 8, (SPLITS, 150)) for _ in range(6)]
    base = sums_moments(arms[0])
    p = np.stack([welch(base, sums_moments(arm))[1] for arm in arms[1:]], axis=1)
    any_raw = np.mean((p < ALPHA).any(axis=1))
    any_adjusted = np.mean((adjusted_p_values(p, method=method) < ALPHA).any(axis=1))  # type: ignore[arg-type]
    # Under the global null any discovery is false: FWER and FDR coincide and must stay ≤ α.
    assert any_adjusted <= interval(ALPHA)[1]
    assert any_raw > interval(ALPHA)[1], "uncorrected picking from five strategies should inflate errors"


@pytest.mark.parametrize("lower_is_better", [False, True], ids=["increase", "decrease"])
def test_guardrail_passes_at_the_margin_at_rate_alpha(
    rng: np.random.Generator, lower_is_better: bool
) -> None:
    margin = 0.05
    a = rng.normal(30, 6, (SPLITS, 400))
    b = rng.normal(30 * (1 + margin if lower_is_better else 1 - margin), 6, (SPLITS, 400))
    lift, _, _, _ = welch(sums_moments(a), sums_moments(b), relative=True)
    verdicts = guardrail_arrays(
        lift=lift,
        margin=np.full(SPLITS, margin),
        lower_is_better=np.full(SPLITS, lower_is_better),
        sequential=np.zeros(SPLITS, dtype=bool),
        alpha=ALPHA,
        tuning=5000.0,
    )
    assert_nominal(float(np.mean(verdicts.verdict == 1)), ALPHA)
    spec = MetricSpec(
        "m",
        "mean",
        direction="decrease" if lower_is_better else "increase",
        guardrail=True,
        non_inferiority_margin=margin,
    )
    card = scorecard_compute(metrics=mean_inputs(spec, [a[:CHECKED], b[:CHECKED]]), baseline="v0")
    ours = np.array([m.variants[0].guardrail.p_value for m in card.metrics], dtype=np.float64)  # type: ignore[union-attr]
    np.testing.assert_allclose(ours, verdicts.p_value[:CHECKED], rtol=1e-12)
