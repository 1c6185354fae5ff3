"""Switchback experiments: analyse zone × time-slot cells, not orders.

`switchback_analyse` drops the burn-in after each switch, folds segments into cells, drops cells without
orders, and compares each variant's cell-sum ratio with the baseline's using the cluster-robust variance
(cluster.py) and Welch's t on the cell counts — the ratio machinery of ratio.py with cells as units. It
also reports each variant's design effect and effective n, and checks the schedule's balance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from experiments.stats.arrays import FloatArray, optional_floats
from experiments.stats.cluster import ClusterMoments, ClusterSums, cluster_moments
from experiments.stats.comparisons import (
    ComparisonRows,
    baseline_sign_flags_add,
    side_flags_add,
    variant_results_build,
)
from experiments.stats.flags import Flag, FlagCode, flag_make
from experiments.stats.inputs import AnalysisSettings, CellStats, MetricSpec
from experiments.stats.lift import lift_compute
from experiments.stats.moments import Moments
from experiments.stats.results import BaselineSummary, VariantResult
from experiments.stats.schedule import BurnIn, ScheduleBalance, burn_in_apply, schedule_balance_check


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """One variant's cells: the cell-sum ratio, both standard errors, design effect and effective n."""

    variant: str
    cells: int
    orders: int
    mean: float | None
    std_error: float | None
    order_level_std_error: float | None
    design_effect: float | None
    effective_n: float | None
    burn_in_segments: int
    burn_in_orders: int
    flags: tuple[Flag, ...]


@dataclass(frozen=True, slots=True)
class SwitchbackResult:
    """A metric's switchback read-out: per-variant cluster summaries, comparisons and the schedule check."""

    spec: MetricSpec
    baseline: BaselineSummary
    clusters: tuple[ClusterSummary, ...]
    variants: tuple[VariantResult, ...]
    balance: ScheduleBalance
    burn_in_ms: int
    flags: tuple[Flag, ...]

    def variant(self, name: str) -> VariantResult:
        """The comparison of the variant called `name` with the baseline."""
        for result in self.variants:
            if result.variant == name:
                return result
        raise KeyError(name)


def _cell_totals(segments: Sequence[CellStats], ratio: bool) -> dict[tuple[str, int], list[float]]:
    """(zone, slot) → [n, Σm, Σd, Σm² orders, Σd² orders, Σmd orders] summed over the cell's segments."""
    totals: dict[tuple[str, int], list[float]] = {}
    for seg in segments:
        if ratio:
            if (
                seg.denominator_sum is None
                or seg.denominator_sum_squares is None
                or seg.main_denominator_sum_product is None
            ):
                raise ValueError("a ratio metric's cells need the denominator columns")
            d, d2, md = seg.denominator_sum, seg.denominator_sum_squares, seg.main_denominator_sum_product
        else:
            d, d2, md = float(seg.n), float(seg.n), seg.main_sum
        row = totals.setdefault((seg.zone, seg.slot_start_ms), [0.0] * 6)
        for k, value in enumerate((float(seg.n), seg.main_sum, d, seg.main_sum_squares, d2, md)):
            row[k] += value
    return totals


def switchback_analyse(
    *,
    spec: MetricSpec,
    cells: Sequence[CellStats],
    baseline: str,
    settings: AnalysisSettings | None = None,
    burn_in_ms: int = 0,
    weights: Mapping[str, float] | None = None,
    utc_offset_ms: int = 0,
    min_cells: int = 10,
) -> SwitchbackResult:
    """Each variant's cell-sum ratio against `baseline` with cluster-robust errors, after the burn-in."""
    settings = settings or AnalysisSettings()
    if spec.kind == "quantile":
        raise ValueError("switchback quantiles take clustered QuantileStats rows through metric_analyse")
    warnings: list[Flag] = []
    if spec.cuped:
        warnings.append(flag_make(FlagCode.CUPED_UNAVAILABLE, reason="switchback cells"))
    ratio = spec.kind == "ratio"
    burn = burn_in_apply(cells=cells, burn_in_ms=burn_in_ms)
    scheduled = {(c.variant, c.zone, c.slot_start_ms) for c in cells}
    balance = schedule_balance_check(
        cells=sorted(scheduled),
        weights=weights,
        threshold=settings.srm_threshold,
        utc_offset_ms=utc_offset_ms,
    )
    variants = [baseline, *sorted({c.variant for c in cells} - {baseline})]
    sums: dict[str, list[float]] = {v: [0.0] * 10 for v in variants}
    for variant in variants:
        totals = _cell_totals([c for c in burn.kept if c.variant == variant], ratio)
        acc = sums[variant]
        for n, m, d, m2, d2, md in totals.values():
            if n == 0:
                continue  # a cell without orders carries nothing and would inflate G
            for k, value in enumerate((1.0, n, m, d, m * m, d * d, m * d, m2, d2, md)):
                acc[k] += value
    table = np.array([sums[v] for v in variants], dtype=np.float64).T
    moments = cluster_moments(ClusterSums(*(table[k] for k in range(10))))
    a_index = np.zeros(len(variants) - 1, dtype=np.intp)
    b_index = np.arange(1, len(variants), dtype=np.intp)

    def side(index: np.ndarray[tuple[int], np.dtype[np.intp]]) -> Moments:
        cell = moments.cell
        return Moments(
            n=cell.n[index],
            mean=cell.mean[index],
            unadjusted_mean=cell.unadjusted_mean[index],
            variance=cell.variance[index],
        )

    a, b = side(a_index), side(b_index)
    names_a = [baseline] * len(b_index)
    names_b = variants[1:]
    flags_abs: list[list[Flag]] = [[] for _ in names_b]
    flags_rel: list[list[Flag]] = [[] for _ in names_b]
    flags = (flags_abs, flags_rel)
    variant_flags = _variant_flags(variants, table, min_cells)
    for i, name in enumerate(names_b):
        for scale in flags:
            scale[i].extend(variant_flags[baseline] + variant_flags[name])
    side_flags_add(rows_flags=flags, names=names_a, n=a.n, variance=a.variance, check_counts=False)
    side_flags_add(rows_flags=flags, names=names_b, n=b.n, variance=b.variance, check_counts=False)
    baseline_sign_flags_add(flags_relative=flags_rel, baseline_mean=a.unadjusted_mean)
    count = len(names_b)
    rows = ComparisonRows(
        variant=names_b,
        n=[int(x) for x in b.n.tolist()],
        mean=b.mean,
        baseline_mean=a.unadjusted_mean,
        absolute=lift_compute(a, b, relative=False),
        relative=lift_compute(a, b, relative=True),
        method=["cluster_welch_t"] * count,
        sequential=np.full(count, spec.sequential, dtype=np.bool_),
        lower_is_better=np.full(count, spec.direction == "decrease", dtype=np.bool_),
        guardrail=np.full(count, spec.guardrail, dtype=np.bool_),
        margin=np.full(count, spec.non_inferiority_margin or 0.0),
        theta=np.full(count, np.nan),
        flags_absolute=flags_abs,
        flags_relative=flags_rel,
    )
    results = variant_results_build(rows=rows, settings=settings)
    summaries = _summaries(variants, table, moments.cell.mean, moments, burn, variant_flags)
    base_mean = optional_floats(moments.cell.mean[:1])[0]
    return SwitchbackResult(
        spec=spec,
        baseline=BaselineSummary(variant=baseline, n=int(table[0][0]), mean=base_mean),
        clusters=summaries,
        variants=tuple(results),
        balance=balance,
        burn_in_ms=burn_in_ms,
        flags=tuple(warnings) + balance.flags,
    )


def _variant_flags(variants: Sequence[str], table: FloatArray, min_cells: int) -> dict[str, list[Flag]]:
    out: dict[str, list[Flag]] = {}
    for j, name in enumerate(variants):
        cells = int(table[0][j])
        flags: list[Flag] = []
        if cells == 0:
            flags.append(flag_make(FlagCode.NO_UNITS, variant=name))
        if cells == 1:
            flags.append(flag_make(FlagCode.TOO_FEW_CELLS, variant=name, cells=cells))
        elif 1 < cells < min_cells:
            flags.append(flag_make(FlagCode.FEW_CELLS, variant=name, cells=cells, minimum=min_cells))
        if cells > 0 and table[3][j] == 0:
            flags.append(flag_make(FlagCode.ZERO_DENOMINATOR, variant=name))
        out[name] = flags
    return out


def _summaries(
    variants: Sequence[str],
    table: FloatArray,
    mean: FloatArray,
    moments: ClusterMoments,
    burn: BurnIn,
    variant_flags: Mapping[str, list[Flag]],
) -> tuple[ClusterSummary, ...]:
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(moments.cell.variance / moments.cell.n)
        order_se = np.sqrt(moments.order.variance / moments.order.n)
    columns = [optional_floats(c) for c in (mean, se, order_se, moments.design_effect, moments.effective_n)]
    out = []
    for j, name in enumerate(variants):
        mean_j, se_j, order_se_j, deff_j, neff_j = (c[j] for c in columns)
        out.append(
            ClusterSummary(
                variant=name,
                cells=int(table[0][j]),
                orders=int(table[1][j]),
                mean=mean_j,
                std_error=se_j if table[0][j] > 1 else None,
                order_level_std_error=order_se_j if table[1][j] > 1 else None,
                design_effect=deff_j if table[0][j] > 1 else None,
                effective_n=neff_j if table[0][j] > 1 else None,
                burn_in_segments=burn.dropped_segments.get(name, 0),
                burn_in_orders=burn.dropped_orders.get(name, 0),
                flags=tuple(variant_flags[name]),
            )
        )
    return tuple(out)
