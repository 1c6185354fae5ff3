"""The switchback schedule: burn-in after each switch, and whether variants were spread evenly.

Burn-in. When a zone switches strategy, orders placed just after the switch are still served by couriers
positioned by the previous strategy (carry-over). A segment (a part of a cell starting `offset_ms` into its
slot) is dropped when it starts within `burn_in_ms` of the slot start and the slot follows a switch: its
variant differs from the zone's previous slot, or it is the zone's first slot (whose prior state is
unknown). The SQL must therefore return every scheduled cell, even one with no orders (n = 0), so that
switches are seen; a segment straddling the burn-in boundary is dropped whole.

Balance. A schedule is balanced when each variant gets its designed share of cells and that share does not
depend on the zone or the hour of day; otherwise a strategy's effect is confounded with where or when it
ran. Three Pearson χ² tests: cells per variant against the weights (goodness of fit, k − 1 df), and the
variant × zone and variant × local-hour contingency tables (independence, (r − 1)(c − 1) df, no continuity
correction; empty rows and columns dropped). Each p below the threshold raises UNBALANCED_SCHEDULE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from experiments.stats.flags import Flag, FlagCode, flag_make
from experiments.stats.inputs import CellStats
from experiments.stats.srm import SrmResult, srm_check

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class BurnIn:
    """Segments kept after the burn-in, and what was dropped per variant (segments, orders)."""

    kept: tuple[CellStats, ...]
    dropped_segments: Mapping[str, int]
    dropped_orders: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ScheduleBalance:
    """Cells per variant against the design, and independence of the variant from zone and hour of day."""

    split: SrmResult
    zone_p_value: float | None
    hour_p_value: float | None
    flags: tuple[Flag, ...]


def burn_in_apply(*, cells: Sequence[CellStats], burn_in_ms: int) -> BurnIn:
    """Drop segments starting within `burn_in_ms` of a slot that follows a switch (or opens its zone)."""
    dropped_segments: dict[str, int] = {}
    dropped_orders: dict[str, int] = {}
    if burn_in_ms <= 0:
        return BurnIn(kept=tuple(cells), dropped_segments={}, dropped_orders={})
    slot_variant: dict[tuple[str, int], str] = {}
    for cell in cells:
        previous = slot_variant.setdefault((cell.zone, cell.slot_start_ms), cell.variant)
        if previous != cell.variant:
            raise ValueError(
                f"cell {cell.zone} @ {cell.slot_start_ms} is assigned to both {previous} and {cell.variant}"
            )
    by_zone: dict[str, list[int]] = {}
    for zone, start in slot_variant:
        by_zone.setdefault(zone, []).append(start)
    after_switch: set[tuple[str, int]] = set()
    for zone, starts in by_zone.items():
        starts.sort()
        for j, start in enumerate(starts):
            if j == 0 or slot_variant[(zone, starts[j - 1])] != slot_variant[(zone, start)]:
                after_switch.add((zone, start))
    kept: list[CellStats] = []
    for cell in cells:
        if (cell.zone, cell.slot_start_ms) in after_switch and cell.offset_ms < burn_in_ms:
            dropped_segments[cell.variant] = dropped_segments.get(cell.variant, 0) + 1
            dropped_orders[cell.variant] = dropped_orders.get(cell.variant, 0) + cell.n
        else:
            kept.append(cell)
    return BurnIn(kept=tuple(kept), dropped_segments=dropped_segments, dropped_orders=dropped_orders)


def contingency_p_value(table: np.ndarray[tuple[int, int], np.dtype[np.float64]]) -> float | None:
    """Pearson χ² independence p-value (no continuity correction); None for a degenerate table."""
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return None
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    dof = (table.shape[0] - 1) * (table.shape[1] - 1)
    return float(special.chdtrc(dof, statistic))


def schedule_balance_check(
    *,
    cells: Sequence[tuple[str, str, int]],
    weights: Mapping[str, float] | None = None,
    threshold: float = 0.001,
    utc_offset_ms: int = 0,
) -> ScheduleBalance:
    """Balance of scheduled cells, each (variant, zone, slot_start_ms), over variants, zones and hours."""
    variants = sorted({v for v, _, _ in cells})
    counts = dict.fromkeys(variants, 0)
    for variant, _, _ in cells:
        counts[variant] += 1
    split = srm_check(counts=counts, weights=weights, threshold=threshold)
    zones = sorted({z for _, z, _ in cells})
    v_index = {v: i for i, v in enumerate(variants)}
    z_index = {z: i for i, z in enumerate(zones)}
    by_zone = np.zeros((len(variants), len(zones)))
    by_hour = np.zeros((len(variants), 24))
    for variant, zone, start in cells:
        by_zone[v_index[variant], z_index[zone]] += 1
        by_hour[v_index[variant], ((start + utc_offset_ms) // HOUR_MS) % 24] += 1
    zone_p = contingency_p_value(by_zone)
    hour_p = contingency_p_value(by_hour)
    flags: list[Flag] = []
    checks = (
        (
            split.p_value,
            "cells are not split between variants as designed",
            "unequal amounts of running time",
        ),
        (zone_p, "variants are not spread evenly over zones", "differences between zones"),
        (hour_p, "variants are not spread evenly over the hours of the day", "time-of-day differences"),
    )
    for p, detail, confound in checks:
        if p is not None and p < threshold:
            flags.append(
                flag_make(
                    FlagCode.UNBALANCED_SCHEDULE,
                    detail=detail,
                    confound=confound,
                    p_value=p,
                    threshold=threshold,
                )
            )
    return ScheduleBalance(split=split, zone_p_value=zone_p, hour_p_value=hour_p, flags=tuple(flags))
