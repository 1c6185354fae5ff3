"""Simulated experiments for the calibration checks: raw units drawn with numpy, reduced to the SQL's rows.

Each generator returns one `MetricInput` per replicate so that a whole batch of replicates is analysed by
one `scorecard_compute` call (the engine vectorises across metrics), plus the true effect where one exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

from experiments.stats import MetricInput, MetricSpec, QuantileStats, VariantStats

N_STAR_VALUES = [100 * 2**k for k in range(20)]
BRACKET_Z = float(special.ndtri(0.975))


def mean_inputs(spec: MetricSpec, arms: Sequence[np.ndarray]) -> list[MetricInput]:
    """Rows of mean/proportion metrics: `arms[k]` has shape (replicates, units) for variant k."""
    sums = [a.sum(axis=1).tolist() for a in arms]
    squares = [(a * a).sum(axis=1).tolist() for a in arms]
    sizes = [a.shape[1] for a in arms]
    names = [f"v{k}" for k in range(len(arms))]
    return [
        MetricInput(
            spec,
            tuple(VariantStats(names[k], sizes[k], sums[k][r], squares[k][r]) for k in range(len(arms))),
        )
        for r in range(arms[0].shape[0])
    ]


def ratio_inputs(spec: MetricSpec, arms: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[MetricInput]:
    """Rows of ratio metrics from (numerator, denominator) arrays of shape (replicates, units)."""
    columns = [
        (
            m.shape[1],
            m.sum(axis=1).tolist(),
            (m * m).sum(axis=1).tolist(),
            d.sum(axis=1).tolist(),
            (d * d).sum(axis=1).tolist(),
            (m * d).sum(axis=1).tolist(),
        )
        for m, d in arms
    ]
    return [
        MetricInput(
            spec,
            tuple(
                VariantStats(f"v{k}", c[0], c[1][r], c[2][r], c[3][r], c[4][r], c[5][r])
                for k, c in enumerate(columns)
            ),
        )
        for r in range(arms[0][0].shape[0])
    ]


def cuped_inputs(spec: MetricSpec, arms: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[MetricInput]:
    """Rows with a pre-period covariate from (post, pre) arrays of shape (replicates, units)."""
    columns = [
        (
            y.shape[1],
            y.sum(axis=1).tolist(),
            (y * y).sum(axis=1).tolist(),
            x.sum(axis=1).tolist(),
            (x * x).sum(axis=1).tolist(),
            (y * x).sum(axis=1).tolist(),
        )
        for y, x in arms
    ]
    return [
        MetricInput(
            spec,
            tuple(
                VariantStats(
                    f"v{k}",
                    c[0],
                    c[1][r],
                    c[2][r],
                    covariate_sum=c[3][r],
                    covariate_sum_squares=c[4][r],
                    main_covariate_sum_product=c[5][r],
                )
                for k, c in enumerate(columns)
            ),
        )
        for r in range(arms[0][0].shape[0])
    ]


def paired_inputs(spec: MetricSpec, baseline: np.ndarray, variant: np.ndarray) -> list[MetricInput]:
    """Paired rows: the variant's values per order with the baseline's on the same orders as covariate."""
    n = baseline.shape[1]
    base_sum, base_sq = baseline.sum(axis=1).tolist(), (baseline * baseline).sum(axis=1).tolist()
    var_sum, var_sq = variant.sum(axis=1).tolist(), (variant * variant).sum(axis=1).tolist()
    product = (variant * baseline).sum(axis=1).tolist()
    return [
        MetricInput(
            spec,
            (
                VariantStats("v0", n, base_sum[r], base_sq[r]),
                VariantStats(
                    "v1",
                    n,
                    var_sum[r],
                    var_sq[r],
                    covariate_sum=base_sum[r],
                    covariate_sum_squares=base_sq[r],
                    main_covariate_sum_product=product[r],
                ),
            ),
        )
        for r in range(baseline.shape[0])
    ]


def quantile_columns(
    y: np.ndarray, level: float, clusters: np.ndarray | None = None
) -> list[dict[str, float]]:
    """gbstats' quantile inputs per replicate row of `y`, as GrowthBook's SQL computes them."""
    n = y.shape[1]
    nstar = max([s for s in N_STAR_VALUES if s < n] or [N_STAR_VALUES[0]])
    half = BRACKET_Z * np.sqrt(level * (1 - level) / nstar)
    levels = [level, max(level - half, 1e-8), min(level + half, 1 - 1e-8)]
    q, lower, upper = np.quantile(y, levels, axis=1)
    out = [
        {
            "quantile_n": n,
            "quantile_nstar": nstar,
            "quantile": q[r],
            "quantile_lower": lower[r],
            "quantile_upper": upper[r],
        }
        for r in range(y.shape[0])
    ]
    if clusters is not None:
        below = (y <= q[:, None]).astype(float)
        groups = int(clusters.max()) + 1
        membership = np.zeros((n, groups))
        membership[np.arange(n), clusters] = 1.0
        # Per replicate and cluster: a = values at or below the quantile, b = values.
        a = below @ membership
        b = membership.sum(axis=0)
        for r, row in enumerate(out):
            row.update(
                n=groups,
                main_sum=float(a[r].sum()),
                main_sum_squares=float((a[r] * a[r]).sum()),
                denominator_sum=float(b.sum()),
                denominator_sum_squares=float((b * b).sum()),
                main_denominator_sum_product=float((a[r] * b).sum()),
            )
    return out


def quantile_inputs(
    spec: MetricSpec, arms: Sequence[np.ndarray], clusters: np.ndarray | None = None
) -> list[MetricInput]:
    """Quantile rows at `spec.quantile_level` for each replicate row of every arm."""
    assert spec.quantile_level is not None
    per_arm = [quantile_columns(a, spec.quantile_level, clusters) for a in arms]
    return [
        MetricInput(
            spec,
            tuple(QuantileStats(variant=f"v{k}", **per_arm[k][r]) for k in range(len(arms))),  # type: ignore[arg-type]
        )
        for r in range(arms[0].shape[0])
    ]


def switchback_cells(
    rng: np.random.Generator, *, replicates: int, cells: int, orders: int, cell_sd: float, lift: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per replicate and cell: assignment (0/1) and order values (replicates × cells × orders)."""
    assignment = rng.integers(0, 2, size=(replicates, cells))
    effect = rng.normal(0, cell_sd, size=(replicates, cells, 1))
    values = (
        30 * (1 + lift * assignment[:, :, None]) + effect + rng.normal(0, 6, size=(replicates, cells, orders))
    )
    return assignment, values, effect


def switchback_inputs(spec: MetricSpec, assignment: np.ndarray, values: np.ndarray) -> list[MetricInput]:
    """Cell-level rows (cells as units: m = cell total, d = orders in the cell), one metric per replicate."""
    orders = values.shape[2]
    totals = values.sum(axis=2)
    out = []
    for r in range(values.shape[0]):
        rows = []
        for k in (0, 1):
            m = totals[r][assignment[r] == k]
            d = np.full(m.size, float(orders))
            rows.append(
                VariantStats(
                    f"v{k}",
                    int(m.size),
                    float(m.sum()),
                    float((m * m).sum()),
                    float(d.sum()),
                    float((d * d).sum()),
                    float((m * d).sum()),
                )
            )
        out.append(MetricInput(spec, tuple(rows)))
    return out


def naive_order_inputs(spec: MetricSpec, assignment: np.ndarray, values: np.ndarray) -> list[MetricInput]:
    """The same switchback analysed as if orders were independent units (what not to do)."""
    out = []
    for r in range(values.shape[0]):
        rows = []
        for k in (0, 1):
            y = values[r][assignment[r] == k].ravel()
            rows.append(VariantStats(f"v{k}", int(y.size), float(y.sum()), float((y * y).sum())))
        out.append(MetricInput(spec, tuple(rows)))
    return out
