"""Switchback analysis: cells as units, burn-in after switches, design effect and schedule balance."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.stats import CellStats, FlagCode, MetricSpec, switchback_analyse
from experiments.stats.schedule import burn_in_apply, schedule_balance_check

HOUR = 3_600_000
SPEC = MetricSpec("minutes", "mean", direction="decrease")


def cell(
    variant: str, zone: str, slot: int, n: int = 10, total: float = 300.0, offset_ms: int = 0
) -> CellStats:
    return CellStats(variant, zone, slot * HOUR, n, total, total**2 / n + 50.0 * (n - 1), offset_ms=offset_ms)


def test_burn_in_drops_only_segments_right_after_a_switch() -> None:
    cells = [
        cell("A", "z1", 0, offset_ms=0),
        cell("A", "z1", 0, offset_ms=1_200_000),
        cell("A", "z1", 1, offset_ms=0),  # no switch: kept
        cell("B", "z1", 2, offset_ms=0),  # switch: dropped
        cell("B", "z1", 2, offset_ms=600_000),  # switch, still within 15 min: dropped
        cell("B", "z1", 2, offset_ms=1_200_000),  # after the burn-in: kept
    ]
    burn = burn_in_apply(cells=cells, burn_in_ms=900_000)
    kept = [(c.slot_start_ms // HOUR, c.offset_ms) for c in burn.kept]
    assert kept == [(0, 1_200_000), (1, 0), (2, 1_200_000)]
    assert burn.dropped_segments == {"A": 1, "B": 2}
    assert burn.dropped_orders == {"A": 10, "B": 20}


def test_a_cell_assigned_to_two_variants_is_refused() -> None:
    with pytest.raises(ValueError, match="assigned to both"):
        burn_in_apply(cells=[cell("A", "z1", 0), cell("B", "z1", 0, offset_ms=600_000)], burn_in_ms=1)


def test_cells_not_orders_are_the_units_and_the_design_effect_is_reported() -> None:
    rng = np.random.default_rng(8)
    cells = []
    for zone in range(8):
        for slot in range(24):
            variant = "A" if rng.random() < 0.5 else "B"
            orders = rng.normal(30 + rng.normal(0, 4), 6, 40)
            cells.append(
                CellStats(variant, f"z{zone}", slot * HOUR, 40, float(orders.sum()), float((orders**2).sum()))
            )
    cells.append(CellStats("B", "z9", 0, 0, 0.0, 0.0))  # a scheduled cell without orders
    result = switchback_analyse(spec=SPEC, cells=cells, baseline="A")
    a, b = result.clusters
    assert a.cells + b.cells == 8 * 24
    assert a.orders == a.cells * 40
    assert a.design_effect is not None
    assert a.design_effect > 10
    assert a.std_error is not None
    assert a.order_level_std_error is not None
    assert a.order_level_std_error < a.std_error / 3
    assert a.effective_n == pytest.approx(a.orders / a.design_effect)
    comparison = result.variant("B").absolute
    assert comparison.method == "cluster_welch_t"
    assert comparison.dof is not None
    assert comparison.dof < a.cells + b.cells


def test_a_variant_with_few_cells_is_warned_and_one_cell_is_refused() -> None:
    cells = [cell("A", f"z{i}", 0, total=300.0 + i) for i in range(12)]
    cells += [cell("B", f"z{i}", 1, total=290.0 + 3 * i) for i in range(4)]
    cells += [cell("C", "z0", 2)]
    result = switchback_analyse(spec=SPEC, cells=cells, baseline="A")
    b = result.variant("B").absolute
    assert FlagCode.FEW_CELLS in [f.code for f in b.flags]
    assert b.p_value is not None
    c = result.variant("C").absolute
    assert [f.code for f in c.flags] == [FlagCode.TOO_FEW_CELLS]
    assert c.estimate is None


def test_an_unbalanced_schedule_is_flagged() -> None:
    start = 1_700_006_400_000  # a UTC midnight
    cells = [
        ("B" if hour < 12 else "A", f"z{z}", start + (day * 24 + hour) * HOUR)
        for z in range(6)
        for day in range(3)
        for hour in range(24)
    ]
    balance = schedule_balance_check(cells=cells)
    assert balance.split.p_value == pytest.approx(1.0)
    assert balance.hour_p_value is not None
    assert balance.hour_p_value < 1e-10
    assert [f.code for f in balance.flags] == [FlagCode.UNBALANCED_SCHEDULE]
    assert "hours of the day" in balance.flags[0].reason


def test_quantiles_and_cuped_point_to_their_own_paths() -> None:
    with pytest.raises(ValueError, match="QuantileStats"):
        switchback_analyse(spec=MetricSpec("p90", "quantile", quantile_level=0.9), cells=[], baseline="A")
    result = switchback_analyse(
        spec=MetricSpec("m", "mean", cuped=True), cells=[cell("A", "z0", 0), cell("B", "z0", 1)], baseline="A"
    )
    assert FlagCode.CUPED_UNAVAILABLE in [f.code for f in result.flags]
