"""Routes from a metric's rows to lift arrays: one per way of estimating a variant's moments.

Each route takes the baseline rows, the variant rows and the specs of many comparisons (one element each),
adds the flags its inputs call for, and returns the absolute and relative lifts for `comparisons.py`:
plain (mean, proportion), ratio (delta method), cuped, quantile, paired (common random numbers) and
unsupported (a paired request the data cannot serve). `route_choose` picks a metric's route.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Literal

import numpy as np

from experiments.stats.arrays import FloatArray, floats_from
from experiments.stats.comparisons import baseline_sign_flags_add, side_flags_add
from experiments.stats.cuped import CupedSide, cuped_moments
from experiments.stats.flags import Flag, FlagCode, flag_make
from experiments.stats.inputs import MetricSpec, QuantileStats, VariantStats
from experiments.stats.lift import LiftArrays, lift_compute
from experiments.stats.moments import Moments, mean_moments, proportion_moments
from experiments.stats.paired import paired_lifts
from experiments.stats.quantile import quantile_min_n, quantile_moments
from experiments.stats.ratio import ratio_moments

Design = Literal["independent", "paired"]
Row = VariantStats | QuantileStats
FlagLists = list[list[Flag]]


@dataclass(frozen=True, slots=True)
class RouteLifts:
    """Lifts on both scales, the variants' and baselines' (unadjusted) means and CUPED θ, per comparison."""

    absolute: LiftArrays
    relative: LiftArrays
    mean: FloatArray
    baseline_mean: FloatArray
    theta: FloatArray


def _col(rows: Sequence[object], name: str) -> FloatArray:
    return floats_from(list(map(attrgetter(name), rows)))


def _non_finite_flags(
    flags: tuple[FlagLists, FlagLists], rows: Sequence[Row], columns: Sequence[FloatArray]
) -> None:
    bad = np.zeros(len(rows), dtype=np.bool_)
    for column in columns:
        bad |= ~np.isfinite(column)
    for i in np.flatnonzero(bad).tolist():
        for scale in flags:
            scale[i].append(flag_make(FlagCode.NON_FINITE_INPUT, variant=rows[i].variant))


def _independent(
    a: Moments, b: Moments, a_rows: Sequence[Row], b_rows: Sequence[Row], flags: tuple[FlagLists, FlagLists]
) -> RouteLifts:
    side_flags_add(rows_flags=flags, names=[r.variant for r in a_rows], n=a.n, variance=a.variance)
    side_flags_add(rows_flags=flags, names=[r.variant for r in b_rows], n=b.n, variance=b.variance)
    baseline_sign_flags_add(flags_relative=flags[1], baseline_mean=a.unadjusted_mean)
    return RouteLifts(
        absolute=lift_compute(a, b, relative=False),
        relative=lift_compute(a, b, relative=True),
        mean=b.unadjusted_mean,
        baseline_mean=a.unadjusted_mean,
        theta=np.full(len(b_rows), np.nan),
    )


def _sums_moments(rows: Sequence[Row], kind: str, flags: tuple[FlagLists, FlagLists]) -> Moments:
    n = _col(rows, "n")
    total = _col(rows, "main_sum")
    if kind == "proportion":
        _non_finite_flags(flags, rows, (n, total))
        return proportion_moments(n=n, total=total)
    squares = _col(rows, "main_sum_squares")
    _non_finite_flags(flags, rows, (n, total, squares))
    return mean_moments(n=n, total=total, sum_squares=squares)


def _route_plain(
    a_rows: Sequence[Row],
    b_rows: Sequence[Row],
    specs: Sequence[MetricSpec],
    flags: tuple[FlagLists, FlagLists],
) -> RouteLifts:
    kind = specs[0].kind
    return _independent(
        _sums_moments(a_rows, kind, flags), _sums_moments(b_rows, kind, flags), a_rows, b_rows, flags
    )


def _ratio_side(rows: Sequence[Row], flags: tuple[FlagLists, FlagLists]) -> Moments:
    columns = {
        name: _col(rows, name)
        for name in (
            "n",
            "main_sum",
            "main_sum_squares",
            "denominator_sum",
            "denominator_sum_squares",
            "main_denominator_sum_product",
        )
    }
    _non_finite_flags(flags, rows, tuple(columns.values()))
    for i in np.flatnonzero((columns["n"] > 0) & (columns["denominator_sum"] == 0)).tolist():
        for scale in flags:
            scale[i].append(flag_make(FlagCode.ZERO_DENOMINATOR, variant=rows[i].variant))
    return ratio_moments(**columns)


def _route_ratio(
    a_rows: Sequence[Row],
    b_rows: Sequence[Row],
    specs: Sequence[MetricSpec],
    flags: tuple[FlagLists, FlagLists],
) -> RouteLifts:
    return _independent(_ratio_side(a_rows, flags), _ratio_side(b_rows, flags), a_rows, b_rows, flags)


def _cuped_side(rows: Sequence[Row], flags: tuple[FlagLists, FlagLists]) -> CupedSide:
    side = CupedSide(
        n=_col(rows, "n"),
        post_sum=_col(rows, "main_sum"),
        post_sum_squares=_col(rows, "main_sum_squares"),
        pre_sum=_col(rows, "covariate_sum"),
        pre_sum_squares=_col(rows, "covariate_sum_squares"),
        post_pre_sum_product=_col(rows, "main_covariate_sum_product"),
    )
    _non_finite_flags(
        flags,
        rows,
        (
            side.n,
            side.post_sum,
            side.post_sum_squares,
            side.pre_sum,
            side.pre_sum_squares,
            side.post_pre_sum_product,
        ),
    )
    return side


def _route_cuped(
    a_rows: Sequence[Row],
    b_rows: Sequence[Row],
    specs: Sequence[MetricSpec],
    flags: tuple[FlagLists, FlagLists],
) -> RouteLifts:
    adjusted = cuped_moments(
        a=_cuped_side(a_rows, flags), b=_cuped_side(b_rows, flags), proportion=specs[0].kind == "proportion"
    )
    out = _independent(adjusted.a, adjusted.b, a_rows, b_rows, flags)
    for i in np.flatnonzero(adjusted.unadjusted & (adjusted.a.n + adjusted.b.n > 1)).tolist():
        for scale in flags:
            scale[i].append(flag_make(FlagCode.CUPED_NO_COVARIATE_VARIANCE))
    theta = np.where(adjusted.unadjusted, np.nan, adjusted.theta)
    return RouteLifts(out.absolute, out.relative, out.mean, out.baseline_mean, theta)


def _quantile_side(
    rows: Sequence[Row], specs: Sequence[MetricSpec], flags: tuple[FlagLists, FlagLists]
) -> Moments:
    level = floats_from([s.quantile_level for s in specs])
    names = ("quantile_n", "quantile_nstar", "quantile", "quantile_lower", "quantile_upper")
    core = {name: _col(rows, name) for name in names}
    _non_finite_flags(flags, rows, tuple(core.values()))
    cluster_names = (
        "main_sum",
        "main_sum_squares",
        "denominator_sum",
        "denominator_sum_squares",
        "main_denominator_sum_product",
    )
    clustered = np.array([isinstance(r, QuantileStats) and r.clustered for r in rows], dtype=np.bool_)
    clusters = floats_from([r.n if c else None for r, c in zip(rows, clustered.tolist(), strict=True)])
    sums = {name: _col(rows, name) for name in cluster_names}
    result = quantile_moments(
        level=level,
        quantile_n=core["quantile_n"],
        quantile_nstar=core["quantile_nstar"],
        quantile=core["quantile"],
        lower=core["quantile_lower"],
        upper=core["quantile_upper"],
        clusters=clusters,
        **sums,
    )
    for i in np.flatnonzero(result.undersampled & (core["quantile_n"] > 1)).tolist():
        nu = float(level[i])
        for scale in flags:
            scale[i].append(
                flag_make(
                    FlagCode.QUANTILE_UNDERSAMPLED,
                    variant=rows[i].variant,
                    n=int(core["quantile_n"][i]),
                    level=f"{100 * nu:g}",
                    needed=int(np.floor(quantile_min_n(nu))),
                )
            )
    for i in np.flatnonzero(result.collapsed).tolist():
        for scale in flags:
            scale[i].append(
                flag_make(
                    FlagCode.QUANTILE_BRACKET_COLLAPSED,
                    variant=rows[i].variant,
                    level=f"{100 * float(level[i]):g}",
                )
            )
    for i in np.flatnonzero(clustered & (clusters <= 1)).tolist():
        for scale in flags:
            scale[i].append(
                flag_make(FlagCode.TOO_FEW_CELLS, variant=rows[i].variant, cells=int(clusters[i]))
            )
    return result.moments


def _route_quantile(
    a_rows: Sequence[Row],
    b_rows: Sequence[Row],
    specs: Sequence[MetricSpec],
    flags: tuple[FlagLists, FlagLists],
) -> RouteLifts:
    return _independent(
        _quantile_side(a_rows, specs, flags), _quantile_side(b_rows, specs, flags), a_rows, b_rows, flags
    )


def _route_paired(
    a_rows: Sequence[Row],
    b_rows: Sequence[Row],
    specs: Sequence[MetricSpec],
    flags: tuple[FlagLists, FlagLists],
) -> RouteLifts:
    n = _col(b_rows, "n")
    columns = {
        "variant_sum": _col(b_rows, "main_sum"),
        "variant_sum_squares": _col(b_rows, "main_sum_squares"),
        "baseline_sum": _col(b_rows, "covariate_sum"),
        "baseline_sum_squares": _col(b_rows, "covariate_sum_squares"),
        "product_sum": _col(b_rows, "main_covariate_sum_product"),
    }
    _non_finite_flags(flags, b_rows, (n, *columns.values()))
    lifts = paired_lifts(n=n, **columns)
    names = [r.variant for r in b_rows]
    side_flags_add(
        rows_flags=flags, names=names, n=n, variance=lifts.difference_variance, check_variance=False
    )
    identical = (n > 1) & ~(lifts.difference_variance > 0)
    for i in np.flatnonzero(identical).tolist():
        for scale in flags:
            scale[i].append(
                flag_make(FlagCode.NO_PAIRED_DIFFERENCE, variant=names[i], baseline=a_rows[i].variant)
            )
    baseline_sign_flags_add(flags_relative=flags[1], baseline_mean=lifts.mean_baseline)
    return RouteLifts(
        absolute=lifts.absolute,
        relative=lifts.relative,
        mean=lifts.mean_variant,
        baseline_mean=lifts.mean_baseline,
        theta=np.full(len(b_rows), np.nan),
    )


def _route_unsupported(
    a_rows: Sequence[Row],
    b_rows: Sequence[Row],
    specs: Sequence[MetricSpec],
    flags: tuple[FlagLists, FlagLists],
) -> RouteLifts:
    for i, spec in enumerate(specs):
        for scale in flags:
            scale[i].append(flag_make(FlagCode.PAIRED_UNSUPPORTED, kind=spec.kind))
    nan = np.full(len(b_rows), np.nan)
    lift = LiftArrays(estimate=nan, variance=nan, dof=nan, n_total=nan)
    return RouteLifts(absolute=lift, relative=lift, mean=nan, baseline_mean=nan, theta=nan)


ROUTES: dict[str, Callable[..., RouteLifts]] = {
    "plain": _route_plain,
    "ratio": _route_ratio,
    "cuped": _route_cuped,
    "quantile": _route_quantile,
    "paired": _route_paired,
    "unsupported": _route_unsupported,
}
METHODS = {
    "plain": "welch_t",
    "ratio": "welch_t_delta",
    "cuped": "welch_t_cuped",
    "quantile": "welch_t_quantile",
    "paired": "paired_t",
    "unsupported": "none",
}


def empty_row(spec: MetricSpec, name: str) -> Row:
    if spec.kind == "quantile":
        return QuantileStats(name, 0, 0, float("nan"), float("nan"), float("nan"))
    return VariantStats(name, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def route_choose(spec: MetricSpec, rows: Sequence[Row], design: Design) -> tuple[str, list[Flag]]:
    warnings: list[Flag] = []
    if design == "paired":
        return ("paired" if spec.kind in ("mean", "proportion") else "unsupported"), warnings
    if spec.kind == "quantile":
        if any(not isinstance(r, QuantileStats) for r in rows):
            raise TypeError(f"metric {spec.key!r}: quantile metrics take QuantileStats rows")
        if spec.cuped:
            warnings.append(flag_make(FlagCode.CUPED_UNAVAILABLE, reason="quantile metrics"))
        return "quantile", warnings
    if any(not isinstance(r, VariantStats) for r in rows):
        raise TypeError(f"metric {spec.key!r}: {spec.kind} metrics take VariantStats rows")
    if spec.kind == "ratio":
        if any(isinstance(r, VariantStats) and not r.has_denominator for r in rows):
            raise ValueError(f"metric {spec.key!r}: a ratio metric needs the denominator columns")
        if spec.cuped:
            warnings.append(flag_make(FlagCode.CUPED_UNAVAILABLE, reason="ratio metrics"))
        return "ratio", warnings
    if spec.cuped:
        if all(isinstance(r, VariantStats) and r.has_covariate for r in rows):
            return "cuped", warnings
        warnings.append(flag_make(FlagCode.CUPED_UNAVAILABLE, reason="rows without covariate columns"))
    return "plain", warnings
