"""gbstats 0.8.0's side of benchmarks/stats.py: runs in var/parity-venv, times itself, prints one JSON line.

Run by benchmarks/stats.py as:
    var/parity-venv/bin/python benchmarks/stats_gbstats.py ROWS.json REPEATS tests|pipeline
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from gbstats.bayesian.tests import (  # type: ignore[import-not-found]  # only in the parity virtualenv
    EffectBayesianABTest,
    EffectBayesianConfig,
    GaussianPrior,
)
from gbstats.frequentist.tests import (  # type: ignore[import-not-found]  # only in the parity virtualenv
    FrequentistConfig,
    OneSidedTreatmentGreaterTTest,
    OneSidedTreatmentLesserTTest,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.gbstats import process_single_metric  # type: ignore[import-not-found]  # only in the parity virtualenv
from gbstats.models.settings import (  # type: ignore[import-not-found]  # only in the parity virtualenv
    AnalysisSettingsForStatsEngine,
    MetricSettingsForStatsEngine,
)
from gbstats.models.statistics import (  # type: ignore[import-not-found]  # only in the parity virtualenv
    ProportionStatistic,
    QuantileStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
from gbstats.utils import check_srm  # type: ignore[import-not-found]  # only in the parity virtualenv


def statistic(row: dict[str, Any], spec: dict[str, Any]) -> Any:
    kind = spec["kind"]
    if kind == "quantile":
        return QuantileStatistic(
            n=row["quantile_n"],
            n_star=row["quantile_nstar"],
            nu=spec["quantile_level"],
            quantile_hat=row["quantile"],
            quantile_lower=row["quantile_lower"],
            quantile_upper=row["quantile_upper"],
        )

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
    if spec.get("cuped"):
        return RegressionAdjustedStatistic(
            n=row["n"],
            post_statistic=base(row["main_sum"], row["main_sum_squares"]),
            pre_statistic=base(row["covariate_sum"], row["covariate_sum_squares"]),
            post_pre_sum_of_products=row["main_covariate_sum_product"],
            theta=0,
        )
    return base(row["main_sum"], row["main_sum_squares"])


def tests_once(metrics: list[dict[str, Any]]) -> tuple[float, float]:
    """Our scorecard's statistics: both scales, both engines, guardrails, SRM (wall and CPU seconds)."""
    start, cpu = time.perf_counter(), time.process_time()
    for metric in metrics:
        spec, rows = metric["spec"], metric["rows"]
        inverse = spec.get("direction") == "decrease"
        check_srm([r.get("n", r.get("quantile_n")) for r in rows], [1.0] * len(rows))
        for row in rows[1:]:
            for difference in ("absolute", "relative"):
                a, b = statistic(rows[0], spec), statistic(row, spec)
                if spec.get("sequential"):
                    SequentialTwoSidedTTest(
                        a, b, SequentialConfig(difference_type=difference)
                    ).compute_result()
                else:
                    TwoSidedTTest(a, b, FrequentistConfig(difference_type=difference)).compute_result()
                config = EffectBayesianConfig(
                    difference_type=difference, inverse=inverse, prior_effect=GaussianPrior()
                )
                EffectBayesianABTest(statistic(rows[0], spec), statistic(row, spec), config).compute_result()
            if spec.get("guardrail"):
                margin = spec["non_inferiority_margin"]
                a, b = statistic(rows[0], spec), statistic(row, spec)
                if inverse:
                    test = OneSidedTreatmentLesserTTest(a, b, FrequentistConfig(test_value=margin))
                else:
                    test = OneSidedTreatmentGreaterTTest(a, b, FrequentistConfig(test_value=-margin))
                test.compute_result()
    return time.perf_counter() - start, time.process_time() - cpu


def growthbook_rows(metric: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for row in metric["rows"]:
        gb = {k: v for k, v in row.items() if k not in ("variant", "n")}
        units = row.get("n", row.get("quantile_n"))
        gb.update(dimension="All", variation=row["variant"], users=units, count=units)
        gb.setdefault("main_sum", 0.0)
        gb.setdefault("main_sum_squares", 0.0)
        out.append(gb)
    return out


def metric_settings(spec: dict[str, Any]) -> MetricSettingsForStatsEngine:
    kind = spec["kind"]
    statistic_type = {"quantile": "quantile_unit", "ratio": "ratio"}.get(
        kind, "mean_ra" if spec.get("cuped") else "mean"
    )
    main_type = "binomial" if kind == "proportion" else ("quantile" if kind == "quantile" else "count")
    return MetricSettingsForStatsEngine(
        id=spec["key"],
        name=spec["key"],
        statistic_type=statistic_type,
        main_metric_type=main_type,
        inverse=spec.get("direction") == "decrease",
        denominator_metric_type="count" if kind == "ratio" else None,
        covariate_metric_type=main_type if spec.get("cuped") else None,
        quantile_value=spec.get("quantile_level"),
    )


def pipeline_once(metrics: list[dict[str, Any]]) -> tuple[float, float]:
    """GrowthBook's own path from query rows: pandas frames, four analyses (2 engines × 2 scales) a metric."""
    prepared = []
    for metric in metrics:
        names = [r["variant"] for r in metric["rows"]]
        analyses = [
            AnalysisSettingsForStatsEngine(
                var_names=names,
                var_ids=names,
                weights=[1.0 / len(names)] * len(names),
                stats_engine=engine,
                difference_type=difference,
                sequential_testing_enabled=bool(metric["spec"].get("sequential")),
            )
            for engine in ("frequentist", "bayesian")
            for difference in ("absolute", "relative")
        ]
        prepared.append((growthbook_rows(metric), metric_settings(metric["spec"]), analyses))
    start, cpu = time.perf_counter(), time.process_time()
    for rows, settings, analyses in prepared:
        process_single_metric(rows=rows, metric=settings, analyses=analyses)
    return time.perf_counter() - start, time.process_time() - cpu


def summary(name: str, runs: list[tuple[float, float]]) -> dict[str, float]:
    walls = [wall for wall, _ in runs]
    return {
        f"{name}_ms": 1000 * statistics.median(walls),
        f"{name}_min_ms": 1000 * min(walls),
        f"{name}_cpu_ms": 1000 * statistics.median([cpu for _, cpu in runs]),
    }


def main() -> None:
    metrics = json.loads(Path(sys.argv[1]).read_text())
    repeats = int(sys.argv[2])
    tests_once(metrics[:1])  # warm imports and scipy's distribution objects
    out = summary("tests", [tests_once(metrics) for _ in range(repeats)])
    if sys.argv[3] == "pipeline":
        out.update(summary("pipeline", [pipeline_once(metrics) for _ in range(repeats)]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
