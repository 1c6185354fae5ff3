"""Regenerate the statistics engine's golden results from the reference implementations.

Runs only inside the parity virtualenv that `make parity` builds (gbstats 0.8.0 needs numpy<2 and
pandas<2; statsmodels and scipy cover what gbstats lacks). It simulates raw data for every method and edge
case, reduces it to the sufficient statistics our SQL will return, runs the reference on the same inputs
and writes one JSON file per reference family under tests/experiments/stats/golden/. The main test run
(test_parity.py) reads those files and checks our engine against them without any reference installed.

Run: var/parity-venv/bin/python tests/experiments/stats/parity/reference.py
"""

from __future__ import annotations

import json
import math
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import scipy.stats as st
import statsmodels.api as sm  # type: ignore[import-not-found]  # only in the parity virtualenv
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior  # type: ignore[import-not-found]  # only in the parity virtualenv
from gbstats.frequentist.tests import (  # type: ignore[import-not-found]  # only in the parity virtualenv
    FrequentistConfig,
    OneSidedTreatmentGreaterTTest,
    OneSidedTreatmentLesserTTest,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (  # type: ignore[import-not-found]  # only in the parity virtualenv
    ProportionStatistic,
    QuantileClusteredStatistic,
    QuantileStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
from gbstats.utils import check_srm  # type: ignore[import-not-found]  # only in the parity virtualenv
from statsmodels.stats.multitest import multipletests  # type: ignore[import-not-found]  # only in the parity virtualenv
from statsmodels.stats.power import TTestIndPower  # type: ignore[import-not-found]  # only in the parity virtualenv

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
GENERATOR = "tests/experiments/stats/parity/reference.py"
N_STAR_VALUES = [100 * 2**k for k in range(20)]  # GrowthBook's grid of N* for the quantile brackets
BRACKET_Z = float(st.norm.ppf(0.975))


def number(value: Any) -> float | None:
    """A JSON-safe float: None for NaN and infinities."""
    value = float(value)
    return value if math.isfinite(value) else None


def versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("gbstats", "numpy", "pandas", "scipy", "statsmodels")}


def write(name: str, reference: str, cases: list[dict[str, Any]]) -> None:
    names = [case["name"] for case in cases]
    assert len(names) == len(set(names)), f"duplicate case names in {name}"
    head = {"reference": reference, "versions": versions(), "generator": GENERATOR}
    # One compact case per line: small files whose diffs show which case moved.
    lines = [json.dumps(head)[:-1] + ', "cases": [']
    lines += [
        json.dumps(case, separators=(",", ":")) + ("," if i < len(cases) - 1 else "")
        for i, case in enumerate(cases)
    ]
    lines.append("]}")
    (GOLDEN / f"{name}.json").write_text("\n".join(lines) + "\n")
    print(f"{name}: {len(cases)} cases")


# --- rows (the SQL's shape) from raw unit-level data -------------------------------------------------


def mean_row(variant: str, y: np.ndarray) -> dict[str, Any]:
    return {
        "variant": variant,
        "n": int(y.size),
        "main_sum": float(y.sum()),
        "main_sum_squares": float((y * y).sum()),
    }


def ratio_row(variant: str, m: np.ndarray, d: np.ndarray) -> dict[str, Any]:
    row = mean_row(variant, m)
    row.update(
        denominator_sum=float(d.sum()),
        denominator_sum_squares=float((d * d).sum()),
        main_denominator_sum_product=float((m * d).sum()),
    )
    return row


def cuped_row(variant: str, y: np.ndarray, x: np.ndarray) -> dict[str, Any]:
    row = mean_row(variant, y)
    row.update(
        covariate_sum=float(x.sum()),
        covariate_sum_squares=float((x * x).sum()),
        main_covariate_sum_product=float((y * x).sum()),
    )
    return row


def quantile_row(
    variant: str, y: np.ndarray, level: float, clusters: np.ndarray | None = None
) -> dict[str, Any]:
    """gbstats' quantile inputs computed as GrowthBook's SQL does, with an exact sample quantile."""
    n = int(y.size)
    eligible = [s for s in N_STAR_VALUES if s < n] or [min(N_STAR_VALUES)]
    nstar = max(eligible)
    half = BRACKET_Z * math.sqrt(level * (1 - level) / nstar)
    lower_level, upper_level = max(level - half, 1e-8), min(level + half, 1 - 1e-8)
    q, lo, hi = np.quantile(y, [level, lower_level, upper_level]) if n else (0.0, 0.0, 0.0)
    row: dict[str, Any] = {
        "variant": variant,
        "quantile_n": n,
        "quantile_nstar": nstar,
        "quantile": float(q),
        "quantile_lower": float(lo),
        "quantile_upper": float(hi),
    }
    if clusters is not None:
        ids, inverse = np.unique(clusters, return_inverse=True)
        a = np.bincount(inverse, weights=(y <= q).astype(float), minlength=ids.size)
        b = np.bincount(inverse, minlength=ids.size).astype(float)
        row.update(
            n=int(ids.size),
            main_sum=float(a.sum()),
            main_sum_squares=float((a * a).sum()),
            denominator_sum=float(b.sum()),
            denominator_sum_squares=float((b * b).sum()),
            main_denominator_sum_product=float((a * b).sum()),
        )
    return row


# --- gbstats statistics from rows ----------------------------------------------------------------------


def gb_statistic(row: dict[str, Any], kind: str, cuped: bool, level: float | None = None) -> Any:
    if kind == "quantile":
        common = {
            "n": row["quantile_n"],
            "n_star": row["quantile_nstar"],
            "nu": level,
            "quantile_hat": row["quantile"],
            "quantile_lower": row["quantile_lower"],
            "quantile_upper": row["quantile_upper"],
        }
        if "main_sum" in row:
            return QuantileClusteredStatistic(
                **common,
                main_sum=row["main_sum"],
                main_sum_squares=row["main_sum_squares"],
                denominator_sum=row["denominator_sum"],
                denominator_sum_squares=row["denominator_sum_squares"],
                main_denominator_sum_product=row["main_denominator_sum_product"],
                n_clusters=row["n"],
            )
        return QuantileStatistic(**common)

    def base(total: float, squares: float) -> Any:
        if kind == "proportion":
            return ProportionStatistic(n=row["n"], sum=total)
        return SampleMeanStatistic(n=row["n"], sum=total, sum_squares=squares)

    if kind == "ratio":
        return RatioStatistic(
            n=row["n"],
            m_statistic=base(row["main_sum"], row["main_sum_squares"]),
            d_statistic=base(row["denominator_sum"], row["denominator_sum_squares"]),
            m_d_sum_of_products=row["main_denominator_sum_product"],
        )
    if cuped:
        return RegressionAdjustedStatistic(
            n=row["n"],
            post_statistic=base(row["main_sum"], row["main_sum_squares"]),
            pre_statistic=base(row["covariate_sum"], row["covariate_sum_squares"]),
            post_pre_sum_of_products=row["main_covariate_sum_product"],
            theta=0,
        )
    return base(row["main_sum"], row["main_sum_squares"])


def frequentist_expected(result: Any) -> dict[str, Any]:
    if result.error_message:
        return {"error": result.error_message}
    return {
        "estimate": number(result.expected),
        "std_error": number(result.uplift.stddev),
        "ci_low": number(result.ci[0]),
        "ci_high": number(result.ci[1]),
        "p_value": number(result.p_value),
    }


class Scenario:
    """One metric's two rows (baseline first) and what the analysis asks."""

    def __init__(
        self,
        name: str,
        kind: str,
        rows: list[dict[str, Any]],
        *,
        cuped: bool = False,
        level: float | None = None,
        our_flags: dict[str, str] | None = None,
        our_warning: str | None = None,
    ) -> None:
        self.name, self.kind, self.rows, self.cuped, self.level = name, kind, rows, cuped, level
        self.our_flags = our_flags or {}  # difference → the flag code our engine must raise instead
        self.our_warning = our_warning

    def spec(self, **extra: Any) -> dict[str, Any]:
        spec = {"key": self.name, "kind": self.kind, "cuped": self.cuped, "quantile_level": self.level}
        spec.update(extra)
        return spec

    def stats(self) -> tuple[Any, Any]:
        return (
            gb_statistic(self.rows[0], self.kind, self.cuped, self.level),
            gb_statistic(self.rows[1], self.kind, self.cuped, self.level),
        )

    def case(
        self, suffix: str, difference: str, spec: dict[str, Any], settings: dict[str, Any], expected: Any
    ) -> dict[str, Any]:
        case: dict[str, Any] = {
            "name": f"{self.name}/{suffix}",
            "spec": spec,
            "settings": settings,
            "difference": difference,
            "rows": self.rows,
            "expected": expected,
        }
        if difference in self.our_flags:
            case["our_flag"] = self.our_flags[difference]
        if self.our_warning:
            case["our_warning"] = self.our_warning
        return case


def scenarios() -> list[Scenario]:
    rng = np.random.default_rng(20240917)
    out: list[Scenario] = []

    def add(*args: Any, **kwargs: Any) -> None:
        out.append(Scenario(*args, **kwargs))

    # Means (delivery minutes and the like).
    a, b = rng.normal(32, 9, 1000), rng.normal(32.6, 9.5, 1000)
    add("mean_normal", "mean", [mean_row("A", a), mean_row("B", b)])
    a, b = rng.lognormal(3, 0.8, 200), rng.lognormal(3.05, 0.8, 300)
    add("mean_skewed_unequal_n", "mean", [mean_row("A", a), mean_row("B", b)])
    a, b = rng.normal(30, 8, 5000), rng.normal(33, 8, 5000)
    add("mean_tiny_p", "mean", [mean_row("A", a), mean_row("B", b)])
    a, b = rng.normal(10, 3, 50), rng.normal(10.5, 6, 5000)
    add("mean_very_unequal_n", "mean", [mean_row("A", a), mean_row("B", b)])
    add("mean_two_units", "mean", [mean_row("A", np.array([3.0, 5.0])), mean_row("B", np.array([4.0, 9.0]))])
    a, b = rng.normal(-5, 2, 400), rng.normal(-4.8, 2, 400)
    add(
        "mean_negative_baseline",
        "mean",
        [mean_row("A", a), mean_row("B", b)],
        our_flags={"relative": "NEGATIVE_BASELINE"},
    )
    # Degenerate inputs: gbstats answers with an error message, our engine with a flag and no numbers.
    add(
        "mean_zero_variance_baseline",
        "mean",
        [mean_row("A", np.full(100, 7.0)), mean_row("B", rng.normal(7, 1, 100))],
        our_flags={"absolute": "ZERO_VARIANCE", "relative": "ZERO_VARIANCE"},
    )
    add(
        "mean_one_unit_baseline",
        "mean",
        [mean_row("A", np.array([4.0])), mean_row("B", rng.normal(4, 1, 50))],
        our_flags={"absolute": "TOO_FEW_UNITS", "relative": "TOO_FEW_UNITS"},
    )
    add(
        "mean_empty_variant",
        "mean",
        [mean_row("A", rng.normal(4, 1, 50)), mean_row("B", np.array([]))],
        our_flags={"absolute": "NO_UNITS", "relative": "NO_UNITS"},
    )
    add(
        "mean_empty_baseline",
        "mean",
        [mean_row("A", np.array([])), mean_row("B", rng.normal(4, 1, 50))],
        our_flags={"absolute": "NO_UNITS", "relative": "NO_UNITS"},
    )
    # Proportions (late orders, cancellations).
    add(
        "proportion_10pct",
        "proportion",
        [mean_row("A", (rng.random(2000) < 0.10) * 1.0), mean_row("B", (rng.random(2000) < 0.115) * 1.0)],
    )
    add(
        "proportion_half",
        "proportion",
        [mean_row("A", (rng.random(800) < 0.5) * 1.0), mean_row("B", (rng.random(900) < 0.52) * 1.0)],
    )
    add(
        "proportion_rare",
        "proportion",
        [mean_row("A", (rng.random(20000) < 0.01) * 1.0), mean_row("B", (rng.random(20000) < 0.008) * 1.0)],
    )
    add(
        "proportion_zero_baseline",
        "proportion",
        [mean_row("A", np.zeros(500)), mean_row("B", (rng.random(500) < 0.01) * 1.0)],
        our_flags={"absolute": "ZERO_VARIANCE", "relative": "ZERO_VARIANCE"},
    )
    add(
        "proportion_all_ones",
        "proportion",
        [mean_row("A", np.ones(300)), mean_row("B", np.ones(280))],
        our_flags={"absolute": "ZERO_VARIANCE", "relative": "ZERO_VARIANCE"},
    )
    # Ratios (minutes per delivered order with orders per courier as the unit; km per order).
    d_a, d_b = rng.poisson(6, 500) + 1.0, rng.poisson(6.2, 500) + 1.0
    m_a, m_b = d_a * rng.normal(31, 4, 500), d_b * rng.normal(30.2, 4, 500)
    add("ratio_minutes_per_order", "ratio", [ratio_row("A", m_a, d_a), ratio_row("B", m_b, d_b)])
    d_a, d_b = rng.gamma(2, 2, 3000), rng.gamma(2, 2.1, 2500)
    m_a, m_b = 3 * d_a + rng.normal(0, 2, 3000), 3.1 * d_b + rng.normal(0, 2, 2500)
    add("ratio_unequal_n", "ratio", [ratio_row("A", m_a, d_a), ratio_row("B", m_b, d_b)])
    add(
        "ratio_zero_denominator",
        "ratio",
        [ratio_row("A", m_a[:100], d_a[:100]), ratio_row("B", np.zeros(80), np.zeros(80))],
        our_flags={"absolute": "ZERO_DENOMINATOR", "relative": "ZERO_DENOMINATOR"},
    )
    # CUPED (pre-period value of the same courier or zone).
    x_a, x_b = rng.normal(30, 8, 1500), rng.normal(30, 8, 1500)
    y_a = 0.8 * x_a + rng.normal(6, 5, 1500)
    y_b = 0.8 * x_b + rng.normal(6.4, 5, 1500)
    add("cuped_mean", "mean", [cuped_row("A", y_a, x_a), cuped_row("B", y_b, x_b)], cuped=True)
    pre_a, pre_b = (rng.random(4000) < 0.3) * 1.0, (rng.random(4000) < 0.3) * 1.0
    post_a = np.where(rng.random(4000) < 0.7, pre_a, (rng.random(4000) < 0.3) * 1.0)
    post_b = np.where(rng.random(4000) < 0.7, pre_b, (rng.random(4000) < 0.33) * 1.0)
    add(
        "cuped_proportion",
        "proportion",
        [cuped_row("A", post_a, pre_a), cuped_row("B", post_b, pre_b)],
        cuped=True,
    )
    y_a, y_b = rng.normal(20, 4, 300), rng.normal(20.5, 4, 300)
    add(
        "cuped_constant_covariate",
        "mean",
        [cuped_row("A", y_a, np.full(300, 2.0)), cuped_row("B", y_b, np.full(300, 2.0))],
        cuped=True,
        our_warning="CUPED_NO_COVARIATE_VARIANCE",
    )
    # Quantiles (P50 and P90 of delivery time), unit-level and clustered by cell.
    a, b = rng.exponential(30, 2000), rng.exponential(28, 2200)
    add("quantile_p50", "quantile", [quantile_row("A", a, 0.5), quantile_row("B", b, 0.5)], level=0.5)
    add("quantile_p90", "quantile", [quantile_row("A", a, 0.9), quantile_row("B", b, 0.9)], level=0.9)
    cells_a, cells_b = rng.integers(0, 150, 6000), rng.integers(0, 150, 6000)
    effect_a, effect_b = rng.normal(0, 6, 150), rng.normal(0, 6, 150)
    a = 30 + effect_a[cells_a] + rng.gamma(2, 5, 6000)
    b = 29 + effect_b[cells_b] + rng.gamma(2, 5, 6000)
    add(
        "quantile_p90_clustered",
        "quantile",
        [quantile_row("A", a, 0.9, cells_a), quantile_row("B", b, 0.9, cells_b)],
        level=0.9,
    )
    add(
        "quantile_p99_undersampled",
        "quantile",
        [
            quantile_row("A", rng.exponential(30, 200), 0.99),
            quantile_row("B", rng.exponential(30, 200), 0.99),
        ],
        level=0.99,
        our_flags={"absolute": "QUANTILE_UNDERSAMPLED", "relative": "QUANTILE_UNDERSAMPLED"},
    )
    tied = np.concatenate([np.full(480, 30.0), rng.normal(30, 5, 20)])
    add(
        "quantile_p50_tied",
        "quantile",
        [quantile_row("A", tied, 0.5), quantile_row("B", rng.normal(31, 5, 500), 0.5)],
        level=0.5,
        our_flags={"absolute": "QUANTILE_BRACKET_COLLAPSED", "relative": "QUANTILE_BRACKET_COLLAPSED"},
    )
    return out


def frequentist_cases(items: list[Scenario]) -> list[dict[str, Any]]:
    cases = []
    for s in items:
        for difference in ("absolute", "relative"):
            for alpha in (0.05, 0.01):
                a, b = s.stats()
                test = TwoSidedTTest(a, b, FrequentistConfig(difference_type=difference, alpha=alpha))
                expected = frequentist_expected(test.compute_result())
                if s.kind == "mean" and not s.cuped and s.rows[0]["n"] > 1 and s.rows[1]["n"] > 1:
                    expected["scipy_welch"] = scipy_welch(s.rows) if difference == "absolute" else None
                cases.append(
                    s.case(f"{difference}/alpha={alpha}", difference, s.spec(), {"alpha": alpha}, expected)
                )
    # gbstats refuses any frequentist result over a zero baseline mean, even an absolute one; our engine
    # computes the absolute lift there, checked against scipy's Welch test.
    a = np.concatenate([np.full(60, -1.0), np.full(60, 1.0)])
    b = np.random.default_rng(5).normal(0.3, 1, 150)
    zero = Scenario("mean_zero_baseline_mean", "mean", [mean_row("A", a), mean_row("B", b)])
    zero.our_flags = {"relative": "ZERO_BASELINE"}
    for difference in ("absolute", "relative"):
        x, y = zero.stats()
        result = TwoSidedTTest(x, y, FrequentistConfig(difference_type=difference)).compute_result()
        expected = frequentist_expected(result)
        if difference == "absolute":
            expected["scipy_welch"] = scipy_welch(zero.rows)
        cases.append(zero.case(difference, difference, zero.spec(), {"alpha": 0.05}, expected))
    return cases


def scipy_welch(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def moments(row: dict[str, Any]) -> tuple[float, float, int]:
        n = row["n"]
        mean = row["main_sum"] / n
        var = (row["main_sum_squares"] - row["main_sum"] ** 2 / n) / (n - 1)
        return mean, math.sqrt(var), n

    (ma, sa, na), (mb, sb, nb) = moments(rows[0]), moments(rows[1])
    result = st.ttest_ind_from_stats(mb, sb, nb, ma, sa, na, equal_var=False)
    return {"estimate": mb - ma, "t": float(result.statistic), "p_value": float(result.pvalue)}


def sequential_cases(items: list[Scenario]) -> list[dict[str, Any]]:
    cases = []
    for s in items:
        for difference in ("absolute", "relative"):
            for tuning in (5000.0, 500.0, 100000.0):
                a, b = s.stats()
                test = SequentialTwoSidedTTest(
                    a, b, SequentialConfig(difference_type=difference, sequential_tuning_parameter=tuning)
                )
                cases.append(
                    s.case(
                        f"{difference}/tuning={tuning:g}",
                        difference,
                        s.spec(sequential=True),
                        {"alpha": 0.05, "sequential_tuning": tuning},
                        frequentist_expected(test.compute_result()),
                    )
                )
    return cases


def bayesian_cases(items: list[Scenario]) -> list[dict[str, Any]]:
    cases = []
    priors = [(0.0, 0.1, False), (0.0, 0.1, True), (0.05, 0.3, True)]
    for s in items:
        for difference in ("absolute", "relative"):
            for mean, sd, proper in priors:
                for inverse in (False, True):
                    a, b = s.stats()
                    config = EffectBayesianConfig(
                        difference_type=difference,
                        inverse=inverse,
                        prior_effect=GaussianPrior(mean=mean, variance=sd**2, proper=proper),
                        prior_type="relative",
                    )
                    result = EffectBayesianABTest(a, b, config).compute_result()
                    if result.error_message:
                        expected: dict[str, Any] = {"error": result.error_message}
                    else:
                        expected = {
                            "mean": number(result.expected),
                            "std_dev": number(result.uplift.stddev),
                            "ci_low": number(result.ci[0]),
                            "ci_high": number(result.ci[1]),
                            "chance_to_win": number(result.chance_to_win),
                            "risk_baseline": number(result.risk[0]),
                            "risk_variant": number(result.risk[1]),
                        }
                    direction = "decrease" if inverse else "increase"
                    shape = "proper" if proper else "flat"
                    label = f"{difference}/prior={mean:g},{sd:g},{shape}/{direction}"
                    cases.append(
                        s.case(
                            label,
                            difference,
                            s.spec(direction=direction),
                            {"alpha": 0.05, "prior": {"mean": mean, "std_dev": sd, "proper": proper}},
                            expected,
                        )
                    )
    return cases


def guardrail_cases(items: list[Scenario]) -> list[dict[str, Any]]:
    cases = []
    for s in items:
        for margin in (0.0, 0.02, 0.1):
            for direction in ("increase", "decrease"):
                a, b = s.stats()
                if direction == "increase":
                    test: Any = OneSidedTreatmentGreaterTTest(
                        a, b, FrequentistConfig(difference_type="relative", test_value=-margin)
                    )
                else:
                    test = OneSidedTreatmentLesserTTest(
                        a, b, FrequentistConfig(difference_type="relative", test_value=margin)
                    )
                result = test.compute_result()
                if result.error_message:
                    expected: dict[str, Any] = {"error": result.error_message}
                else:
                    if direction == "increase":
                        expected = {"p_value": number(result.p_value), "bound": number(result.ci[0])}
                    else:
                        # gbstats 0.8.0 reports the upper bound of the "lesser" test as Δ − t·SE (a sign
                        # slip: its p-value is right); the bound of that test is Δ + t·SE = 2Δ − (Δ − t·SE).
                        expected = {
                            "p_value": number(result.p_value),
                            "bound": number(2 * result.expected - result.ci[1]),
                            "gbstats_reported_bound": number(result.ci[1]),
                        }
                cases.append(
                    s.case(
                        f"margin={margin:g}/{direction}",
                        "relative",
                        s.spec(direction=direction, guardrail=True, non_inferiority_margin=margin),
                        {"alpha": 0.05},
                        expected,
                    )
                )
    return cases


def srm_cases() -> list[dict[str, Any]]:
    specs: list[tuple[str, list[int], list[float]]] = [
        ("equal_two", [5000, 5050], [0.5, 0.5]),
        ("equal_three", [3300, 3340, 3290], [1.0, 1.0, 1.0]),
        ("unequal_weights", [2000, 8100], [0.2, 0.8]),
        ("mismatch", [5000, 5400], [0.5, 0.5]),
        ("mismatch_three", [1000, 1000, 1150], [1.0, 1.0, 1.0]),
        ("hundred_strategies", [int(x) for x in np.random.default_rng(3).poisson(1000, 101)], [1.0] * 101),
    ]
    cases = []
    for name, counts, weights in specs:
        p = check_srm(counts, weights)
        cases.append(
            {
                "name": name,
                "counts": {f"v{i}": c for i, c in enumerate(counts)},
                "weights": {f"v{i}": float(w) for i, w in enumerate(weights)},
                "expected": {"p_value": float(p)},
            }
        )
    cases.append(
        {
            "name": "no_units",
            "counts": {"v0": 0, "v1": 0},
            "weights": {"v0": 0.5, "v1": 0.5},
            "expected": {"gbstats_p_value": float(check_srm([0, 0], [0.5, 0.5]))},
            "our_flag": "NO_UNITS",
        }
    )
    return cases


def multiple_cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(11)
    families = {
        "uniform_20": rng.random(20),
        "mixed_100": np.concatenate([rng.random(90), rng.random(10) * 1e-4]),
        "ties_and_ones": np.array([0.01, 0.01, 0.04, 0.04, 1.0, 1.0, 0.2, 0.003]),
        "tiny": np.array([1e-12, 3e-9, 0.5, 0.049, 0.051]),
        "single": np.array([0.03]),
    }
    cases = []
    for name, p in families.items():
        for method, sm_method in (("holm", "holm"), ("bh", "fdr_bh")):
            reject, corrected, _, _ = multipletests(p, alpha=0.05, method=sm_method)
            cases.append(
                {
                    "name": f"{name}/{method}",
                    "method": method,
                    "p_values": [float(x) for x in p],
                    "expected": {
                        "adjusted": [float(x) for x in corrected],
                        "reject": [bool(x) for x in reject],
                    },
                }
            )
    return cases


def power_cases() -> list[dict[str, Any]]:
    analysis = TTestIndPower()
    cases = []
    for n_a, ratio, d, alpha in [
        (1000, 1.0, 0.1, 0.05),
        (200, 1.5, 0.3, 0.05),
        (50, 1.0, 0.5, 0.01),
        (20000, 1.0, 0.02, 0.05),
    ]:
        sd = 7.5
        power = float(analysis.power(effect_size=d, nobs1=n_a, alpha=alpha, ratio=ratio))
        mde = float(analysis.solve_power(effect_size=None, nobs1=n_a, alpha=alpha, power=0.8, ratio=ratio))
        n_needed = float(analysis.solve_power(effect_size=d, nobs1=None, alpha=alpha, power=0.8, ratio=ratio))
        cases.append(
            {
                "name": f"n={n_a},ratio={ratio:g},d={d:g},alpha={alpha:g}",
                "inputs": {
                    "n_a": n_a,
                    "n_b": n_a * ratio,
                    "ratio": ratio,
                    "std_dev": sd,
                    "effect": d * sd,
                    "alpha": alpha,
                },
                "expected": {"power": power, "mde_absolute": mde * sd, "n_a_for_power_0.8": n_needed},
            }
        )
    return cases


def paired_cases() -> list[dict[str, Any]]:
    """Common-random-number runs: each strategy's value per order next to the baseline's on the same order."""
    rng = np.random.default_rng(7)
    cases = []
    for name, n, effect, noise in [
        ("small_effect", 3000, 0.2, 2.0),
        ("large_effect", 500, 1.5, 3.0),
        ("tiny_n", 5, 0.5, 1.0),
    ]:
        base = rng.gamma(4, 8, n)
        variant = base + effect + rng.normal(0, noise, n)
        row = mean_row("B", variant)
        row.update(
            covariate_sum=float(base.sum()),
            covariate_sum_squares=float((base * base).sum()),
            main_covariate_sum_product=float((variant * base).sum()),
        )
        t = st.ttest_rel(variant, base)
        ci = t.confidence_interval(0.95)
        ratio = RatioStatistic(
            n=n,
            m_statistic=SampleMeanStatistic(n=n, sum=row["main_sum"], sum_squares=row["main_sum_squares"]),
            d_statistic=SampleMeanStatistic(
                n=n, sum=row["covariate_sum"], sum_squares=row["covariate_sum_squares"]
            ),
            m_d_sum_of_products=row["main_covariate_sum_product"],
        )
        rel_se = math.sqrt(ratio.variance / n)
        rel_est = ratio.mean - 1
        t_crit = float(st.t.ppf(0.975, n - 1))
        cases.append(
            {
                "name": name,
                "rows": [mean_row("A", base), row],
                "expected": {
                    "absolute": {
                        "estimate": float((variant - base).mean()),
                        "t": float(t.statistic),
                        "p_value": float(t.pvalue),
                        "dof": float(t.df),
                        "ci_low": float(ci.low),
                        "ci_high": float(ci.high),
                    },
                    "relative": {
                        "estimate": rel_est,
                        "std_error": rel_se,
                        "p_value": float(2 * st.t.sf(abs(rel_est / rel_se), n - 1)),
                        "ci_low": rel_est - t_crit * rel_se,
                        "ci_high": rel_est + t_crit * rel_se,
                    },
                },
            }
        )
    same = rng.gamma(4, 8, 200)
    row = mean_row("B", same)
    row.update(
        covariate_sum=row["main_sum"],
        covariate_sum_squares=row["main_sum_squares"],
        main_covariate_sum_product=row["main_sum_squares"],
    )
    cases.append(
        {
            "name": "identical_strategies",
            "rows": [mean_row("A", same), row],
            "our_flag": "NO_PAIRED_DIFFERENCE",
        }
    )
    return cases


def switchback_data(
    rng: np.random.Generator, *, zones: int, slots: int, variants: list[str], cell_sd: float, ratio: bool
) -> dict[str, np.ndarray]:
    """Orders of a switchback: zone × 1-hour slots, random assignment per cell, shared cell effects."""
    slot_ms = 3_600_000
    start0 = 1_700_000_000_000 - (1_700_000_000_000 % slot_ms)
    assignment = rng.integers(0, len(variants), size=(zones, slots))
    lift = {v: 1.0 + 0.03 * i for i, v in enumerate(variants)}
    rows = []
    for z in range(zones):
        for s in range(slots):
            n = int(rng.poisson(40))
            u = rng.normal(0, cell_sd)
            offsets = np.sort(rng.integers(0, slot_ms, n))
            km = rng.gamma(3, 1.0, n) + 0.2
            per_km = 8 * lift[variants[assignment[z, s]]] + u + rng.normal(0, 2, n)
            y = per_km * km if ratio else 30 * lift[variants[assignment[z, s]]] + 4 * u + rng.normal(0, 8, n)
            for k in range(n):
                rows.append((z, s, assignment[z, s], start0 + s * slot_ms, offsets[k], y[k], km[k]))
    table = np.array(rows, dtype=np.float64)
    return {
        "zone": table[:, 0].astype(int),
        "slot": table[:, 1].astype(int),
        "variant": table[:, 2].astype(int),
        "slot_start_ms": table[:, 3].astype(np.int64),
        "offset_ms": table[:, 4].astype(np.int64),
        "y": table[:, 5],
        "x": table[:, 6],
        "assignment": assignment,
    }


def cell_rows(
    data: dict[str, np.ndarray], variants: list[str], ratio: bool, segment_ms: int
) -> list[dict[str, Any]]:
    """The SQL's per-cell-segment rows (`segment_ms` segments from the slot start), empty cells included."""
    out = []
    assignment = data["assignment"]
    slot_ms = 3_600_000
    start0 = int(data["slot_start_ms"].min()) - int(data["slot"][data["slot_start_ms"].argmin()]) * slot_ms
    segment = data["offset_ms"] // segment_ms
    for z in range(assignment.shape[0]):
        for s in range(assignment.shape[1]):
            in_cell = (data["zone"] == z) & (data["slot"] == s)
            segments = sorted(set(segment[in_cell].tolist())) or [0]
            for g in segments:
                mask = in_cell & (segment == g)
                y, x = data["y"][mask], data["x"][mask]
                row: dict[str, Any] = {
                    "variant": variants[assignment[z, s]],
                    "zone": f"z{z}",
                    "slot_start_ms": start0 + s * slot_ms,
                    "offset_ms": int(g * segment_ms),
                    "n": int(mask.sum()),
                    "main_sum": float(y.sum()),
                    "main_sum_squares": float((y * y).sum()),
                }
                if ratio:
                    row.update(
                        denominator_sum=float(x.sum()),
                        denominator_sum_squares=float((x * x).sum()),
                        main_denominator_sum_product=float((y * x).sum()),
                    )
                out.append(row)
    return out


def burn_in_mask(data: dict[str, np.ndarray], burn_in_ms: int) -> np.ndarray:
    """Orders kept after dropping the first `burn_in_ms` of each slot after a switch (or opening a zone)."""
    assignment = data["assignment"]
    switched = np.ones_like(assignment, dtype=bool)
    switched[:, 1:] = assignment[:, 1:] != assignment[:, :-1]
    after = switched[data["zone"], data["slot"]]
    kept: np.ndarray = ~(after & (data["offset_ms"] < burn_in_ms))
    return kept


def switchback_cases() -> list[dict[str, Any]]:
    cases = []
    rng = np.random.default_rng(99)
    variants = ["A", "B", "C"]
    for name, zones, slots, ratio, burn_in in [
        ("mean_12x24", 12, 24, False, 0),
        ("mean_8x12_burn_in", 8, 12, False, 1_200_000),
        ("ratio_10x24", 10, 24, True, 0),
        ("ratio_6x10_burn_in", 6, 10, True, 2_400_000),
    ]:
        data = switchback_data(rng, zones=zones, slots=slots, variants=variants, cell_sd=2.0, ratio=ratio)
        rows = cell_rows(data, variants, ratio, segment_ms=1_200_000)
        keep = burn_in_mask(data, burn_in)
        cell_id = data["zone"] * slots + data["slot"]
        comparisons: dict[str, Any] = {}
        for j, variant in enumerate(variants[1:], start=1):
            mask = keep & np.isin(data["variant"], [0, j])
            y, x, g = data["y"][mask], data["x"][mask], cell_id[mask]
            treat = (data["variant"][mask] == j).astype(float)
            design = sm.add_constant(treat)
            if ratio:
                fit = sm.WLS(y / x, design, weights=x).fit(cov_type="cluster", cov_kwds={"groups": g})
            else:
                fit = sm.OLS(y, design).fit(cov_type="cluster", cov_kwds={"groups": g})
            ci = fit.conf_int(alpha=0.05)
            comparisons[variant] = {
                "statsmodels_cr1": {
                    "estimate": float(fit.params[1]),
                    "std_error": float(fit.bse[1]),
                    "p_value": float(fit.pvalues[1]),
                    "ci_low": float(ci[1][0]),
                    "ci_high": float(ci[1][1]),
                    "clusters": int(np.unique(g).size),
                },
                "gbstats_cells": gbstats_cells(data, keep, cell_id, 0, j, ratio),
            }
        per_variant = {}
        for j, variant in enumerate(variants):
            mask = keep & (data["variant"] == j)
            per_variant[variant] = cluster_reference(data["y"][mask], data["x"][mask], cell_id[mask], ratio)
        cases.append(
            {
                "name": name,
                "kind": "ratio" if ratio else "mean",
                "burn_in_ms": burn_in,
                "cells": rows,
                "expected": {"comparisons": comparisons, "variants": per_variant},
            }
        )
    return cases


def cell_sums(y: np.ndarray, x: np.ndarray, cells: np.ndarray, ratio: bool) -> tuple[np.ndarray, np.ndarray]:
    ids, inverse = np.unique(cells, return_inverse=True)
    m = np.bincount(inverse, weights=y, minlength=ids.size)
    d = np.bincount(inverse, weights=x if ratio else np.ones_like(y), minlength=ids.size)
    return m, d


def ratio_statistic(m: np.ndarray, d: np.ndarray) -> RatioStatistic:
    n = int(m.size)
    return RatioStatistic(
        n=n,
        m_statistic=SampleMeanStatistic(n=n, sum=float(m.sum()), sum_squares=float((m * m).sum())),
        d_statistic=SampleMeanStatistic(n=n, sum=float(d.sum()), sum_squares=float((d * d).sum())),
        m_d_sum_of_products=float((m * d).sum()),
    )


def gbstats_cells(
    data: dict[str, np.ndarray], keep: np.ndarray, cell_id: np.ndarray, a: int, b: int, ratio: bool
) -> dict[str, Any]:
    """gbstats' ratio t test with switchback cells as its units: the identical computation to ours."""
    out = {}
    stats = []
    for j in (a, b):
        mask = keep & (data["variant"] == j)
        stats.append(cell_sums(data["y"][mask], data["x"][mask], cell_id[mask], ratio))
    for difference in ("absolute", "relative"):
        test = TwoSidedTTest(
            ratio_statistic(*stats[0]),
            ratio_statistic(*stats[1]),
            FrequentistConfig(difference_type=difference),
        )
        out[difference] = frequentist_expected(test.compute_result())
    return out


def cluster_reference(y: np.ndarray, x: np.ndarray, cells: np.ndarray, ratio: bool) -> dict[str, Any]:
    m, d = cell_sums(y, x, cells, ratio)
    cell = ratio_statistic(m, d)
    order = ratio_statistic(y, x if ratio else np.ones_like(y))
    var_cell = cell.variance / cell.n
    var_order = order.variance / order.n
    return {
        "cells": int(m.size),
        "orders": int(y.size),
        "mean": float(cell.mean),
        "std_error": math.sqrt(var_cell),
        "order_level_std_error": math.sqrt(var_order),
        "design_effect": var_cell / var_order,
    }


def schedule_cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(5)
    cases = []
    slot_ms = 3_600_000
    start0 = 1_700_000_000_000 - (1_700_000_000_000 % (24 * slot_ms))
    for name, zones, slots, skew in [
        ("balanced_random", 10, 48, 0.0),
        ("zone_skewed", 10, 48, 0.8),
        ("hour_skewed", 6, 72, -1.0),
    ]:
        cells: list[tuple[str, str, int]] = []
        for z in range(zones):
            for s in range(slots):
                hour = s % 24
                if skew > 0:
                    p_b = 0.5 + skew * (0.5 if z < zones // 2 else -0.5)
                elif skew < 0:
                    p_b = 0.9 if hour < 12 else 0.1
                else:
                    p_b = 0.5
                variant = "B" if rng.random() < p_b else "A"
                cells.append((variant, f"z{z}", start0 + s * slot_ms))
        variants = sorted({c[0] for c in cells})
        zones_sorted = sorted({c[1] for c in cells})
        by_zone = np.zeros((len(variants), len(zones_sorted)))
        by_hour = np.zeros((len(variants), 24))
        for variant_name, zone_name, start in cells:
            by_zone[variants.index(variant_name), zones_sorted.index(zone_name)] += 1
            by_hour[variants.index(variant_name), (start // slot_ms) % 24] += 1

        def p_indep(table: np.ndarray) -> float:
            table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
            return float(st.chi2_contingency(table, correction=False).pvalue)

        counts = [sum(1 for c in cells if c[0] == v) for v in variants]
        cases.append(
            {
                "name": name,
                "cells": cells,
                "expected": {
                    "split_p_value": float(st.chisquare(counts).pvalue),
                    "zone_p_value": p_indep(by_zone),
                    "hour_p_value": p_indep(by_hour),
                },
            }
        )
    return cases


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    items = scenarios()
    write(
        "gbstats_frequentist",
        "gbstats 0.8.0 TwoSidedTTest (and scipy ttest_ind_from_stats)",
        frequentist_cases(items),
    )
    write("gbstats_sequential", "gbstats 0.8.0 SequentialTwoSidedTTest", sequential_cases(items))
    write("gbstats_bayesian", "gbstats 0.8.0 EffectBayesianABTest", bayesian_cases(items))
    write("gbstats_guardrail", "gbstats 0.8.0 OneSidedTreatment{Greater,Lesser}TTest", guardrail_cases(items))
    write("gbstats_srm", "gbstats 0.8.0 check_srm", srm_cases())
    write("statsmodels_multiple", "statsmodels multipletests", multiple_cases())
    write("statsmodels_power", "statsmodels TTestIndPower", power_cases())
    write(
        "statsmodels_switchback",
        "statsmodels OLS/WLS cluster (CR1) and gbstats ratio test on cells",
        switchback_cases(),
    )
    write("scipy_paired", "scipy ttest_rel and gbstats RatioStatistic", paired_cases())
    write("scipy_schedule", "scipy chisquare and chi2_contingency", schedule_cases())


if __name__ == "__main__":
    main()
