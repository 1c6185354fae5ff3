"""The entry point pages call: a scorecard of metrics × variants against one baseline.

`scorecard_compute` gathers every (metric, variant) comparison of the request, computes each route's
moments in one vectorised pass (so 100 strategies × 20 metrics cost a few dozen numpy calls) and hands
the lifts to `comparisons.variant_results_build`. `metric_analyse` is the same for a single metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from experiments.stats.comparisons import ComparisonRows, variant_results_build
from experiments.stats.flags import Flag
from experiments.stats.inputs import AnalysisSettings, MetricSpec, QuantileStats
from experiments.stats.lift import LiftArrays
from experiments.stats.results import BaselineSummary, MetricResult
from experiments.stats.routes import METHODS, ROUTES, Design, FlagLists, Row, empty_row, route_choose
from experiments.stats.srm import SrmResult, srm_check, srm_results

_Plan = tuple[MetricSpec, Row, list[Row], str, list[Flag]]


@dataclass(frozen=True, slots=True)
class MetricInput:
    """One metric's spec and its per-variant rows as the SQL returned them."""

    spec: MetricSpec
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Scorecard:
    """Every metric's read-out, with the experiment-level split check when assignment counts were given."""

    metrics: tuple[MetricResult, ...]
    srm: SrmResult | None

    def metric(self, key: str) -> MetricResult:
        """The read-out of the metric whose key is `key`."""
        for result in self.metrics:
            if result.spec.key == key:
                return result
        raise KeyError(key)


def _baseline_summary(spec: MetricSpec, row: Row) -> BaselineSummary:
    if isinstance(row, QuantileStats):
        value = row.quantile if row.quantile_n > 0 else None
        return BaselineSummary(variant=row.variant, n=row.quantile_n, mean=value)
    if spec.kind == "ratio":
        denominator = row.denominator_sum or 0.0
        return BaselineSummary(row.variant, row.n, row.main_sum / denominator if denominator != 0 else None)
    return BaselineSummary(row.variant, row.n, row.main_sum / row.n if row.n > 0 else None)


def _srm_by_metric(
    plans: Sequence[_Plan], design: Design, weights: Mapping[str, float] | None, threshold: float
) -> list[SrmResult | None]:
    """Per-metric SRM on the units each variant's row reports, vectorised over metrics sharing variants."""
    out: list[SrmResult | None] = [None] * len(plans)
    if design != "independent":
        return out
    groups: dict[tuple[str, ...], list[int]] = {}
    counts: list[list[int]] = []
    for i, (_, base, others, _, _) in enumerate(plans):
        rows = [base, *others]
        units = [r.n for r in rows]
        counts.append([0 if u is None else u for u in units])
        if all(u is not None for u in units):
            groups.setdefault(tuple(r.variant for r in rows), []).append(i)
    for names, index in groups.items():
        matrix = np.array([counts[i] for i in index], dtype=np.float64)
        for i, result in zip(
            index, srm_results(names=names, counts=matrix, weights=weights, threshold=threshold), strict=True
        ):
            out[i] = result
    return out


def scorecard_compute(
    *,
    metrics: Sequence[MetricInput],
    baseline: str,
    settings: AnalysisSettings | None = None,
    weights: Mapping[str, float] | None = None,
    design: Design = "independent",
    assignments: Mapping[str, int] | None = None,
) -> Scorecard:
    """Every metric's variants against `baseline`; `assignments` (units per variant) adds an SRM check."""
    settings = settings or AnalysisSettings()
    plans: list[_Plan] = []
    for item in metrics:
        rows = list(item.rows)
        base = next((r for r in rows if r.variant == baseline), None) or empty_row(item.spec, baseline)
        others = [r for r in rows if r.variant != baseline]
        route, warnings = route_choose(item.spec, rows, design)
        plans.append((item.spec, base, others, route, warnings))

    by_route: dict[str, list[int]] = {}
    a_rows: list[Row] = []
    b_rows: list[Row] = []
    specs: list[MetricSpec] = []
    for spec, base, others, route, _ in plans:
        for row in others:
            by_route.setdefault(route, []).append(len(b_rows))
            a_rows.append(base)
            b_rows.append(row)
            specs.append(spec)
    total = len(b_rows)
    flags_abs: FlagLists = [[] for _ in range(total)]
    flags_rel: FlagLists = [[] for _ in range(total)]
    columns = {name: np.full(total, np.nan) for name in ("mean", "baseline_mean", "theta")}
    lifts = {
        scale: {name: np.full(total, np.nan) for name in ("estimate", "variance", "dof", "n_total")}
        for scale in ("absolute", "relative")
    }
    methods = [""] * total
    for route, index_list in by_route.items():
        index = np.array(index_list, dtype=np.intp)
        out = ROUTES[route](
            [a_rows[i] for i in index_list],
            [b_rows[i] for i in index_list],
            [specs[i] for i in index_list],
            ([flags_abs[i] for i in index_list], [flags_rel[i] for i in index_list]),
        )
        for scale, lift in (("absolute", out.absolute), ("relative", out.relative)):
            for name in ("estimate", "variance", "dof", "n_total"):
                lifts[scale][name][index] = getattr(lift, name)
        columns["mean"][index] = out.mean
        columns["baseline_mean"][index] = out.baseline_mean
        columns["theta"][index] = out.theta
        for i in index_list:
            methods[i] = METHODS[route]

    comparison_rows = ComparisonRows(
        variant=[r.variant for r in b_rows],
        n=[r.quantile_n if isinstance(r, QuantileStats) else r.n for r in b_rows],
        mean=columns["mean"],
        baseline_mean=columns["baseline_mean"],
        absolute=LiftArrays(**lifts["absolute"]),
        relative=LiftArrays(**lifts["relative"]),
        method=methods,
        sequential=np.array([s.sequential for s in specs], dtype=np.bool_),
        lower_is_better=np.array([s.direction == "decrease" for s in specs], dtype=np.bool_),
        guardrail=np.array([s.guardrail for s in specs], dtype=np.bool_),
        margin=np.array([s.non_inferiority_margin or 0.0 for s in specs], dtype=np.float64),
        theta=columns["theta"],
        flags_absolute=flags_abs,
        flags_relative=flags_rel,
    )
    results = variant_results_build(rows=comparison_rows, settings=settings)

    srms = _srm_by_metric(plans, design, weights, settings.srm_threshold)
    metric_results: list[MetricResult] = []
    start = 0
    for (spec, base, others, _, warnings), srm in zip(plans, srms, strict=True):
        metric_results.append(
            MetricResult(
                spec=spec,
                baseline=_baseline_summary(spec, base),
                variants=tuple(results[start : start + len(others)]),
                srm=srm,
                flags=tuple(warnings) + (srm.flags if srm is not None and srm.mismatch else ()),
            )
        )
        start += len(others)
    experiment_srm = None
    if assignments is not None:
        experiment_srm = srm_check(counts=assignments, weights=weights, threshold=settings.srm_threshold)
    return Scorecard(metrics=tuple(metric_results), srm=experiment_srm)


def metric_analyse(
    *,
    spec: MetricSpec,
    rows: Sequence[Row],
    baseline: str,
    settings: AnalysisSettings | None = None,
    weights: Mapping[str, float] | None = None,
    design: Design = "independent",
) -> MetricResult:
    """One metric's variants against `baseline` (the single-metric form of `scorecard_compute`)."""
    card = scorecard_compute(
        metrics=[MetricInput(spec=spec, rows=tuple(rows))],
        baseline=baseline,
        settings=settings,
        weights=weights,
        design=design,
    )
    return card.metrics[0]
