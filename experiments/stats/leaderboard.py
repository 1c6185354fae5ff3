"""The strategy leaderboard: many variants against one baseline on one metric, with multiplicity control.

Picking the best of 100 strategies by its unadjusted p-value finds "winners" by chance (at α = 0.05, five
of 100 identical strategies look significant). The leaderboard ranks variants by their lift in the good
direction and marks as discoveries only those whose Benjamini–Hochberg adjusted p-value (q-value) is below
α, so that in expectation at most a fraction α of the marked strategies are false discoveries; Holm instead
bounds the chance of any false discovery. Intervals shown stay per-comparison (unadjusted). Comparisons
withheld by a blocking flag are listed last and are not counted in the family.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.stats.flags import Flag, FlagCode, flag_make
from experiments.stats.inputs import Difference
from experiments.stats.multiple import Correction, p_values_adjust
from experiments.stats.results import MetricResult, Outcome


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    """One strategy's place: its lift, interval, raw and adjusted p-values, and whether it is a discovery."""

    rank: int
    variant: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    adjusted_p_value: float | None
    discovery: bool
    outcome: Outcome | None
    flags: tuple[Flag, ...]


@dataclass(frozen=True, slots=True)
class Leaderboard:
    """Variants ranked best first on one metric, with the correction that decided the discoveries."""

    metric: str
    difference: Difference
    correction: Correction
    alpha: float
    rows: tuple[LeaderboardRow, ...]
    discoveries: int
    flags: tuple[Flag, ...]


def leaderboard_compute(
    *,
    result: MetricResult,
    correction: Correction = "bh",
    difference: Difference = "relative",
    alpha: float = 0.05,
) -> Leaderboard:
    """Rank `result`'s variants best first and mark the discoveries under `correction` at level `alpha`."""
    comparisons = [getattr(v, difference) for v in result.variants]
    adjusted = p_values_adjust([c.p_value for c in comparisons], method=correction)
    sign = -1.0 if result.spec.direction == "decrease" else 1.0

    def sort_key(i: int) -> tuple[int, float]:
        estimate = comparisons[i].estimate
        return (1, 0.0) if estimate is None else (0, -sign * estimate)

    rows = []
    discoveries = 0
    for rank, i in enumerate(sorted(range(len(comparisons)), key=sort_key), start=1):
        c = comparisons[i]
        q = adjusted[i]
        discovery = q is not None and q < alpha
        discoveries += discovery
        rows.append(
            LeaderboardRow(
                rank=rank,
                variant=result.variants[i].variant,
                estimate=c.estimate,
                ci_low=c.ci_low,
                ci_high=c.ci_high,
                p_value=c.p_value,
                adjusted_p_value=q,
                discovery=discovery,
                outcome=c.outcome,
                flags=c.flags,
            )
        )
    flags = () if any(q is not None for q in adjusted) else (flag_make(FlagCode.NO_TESTS),)
    return Leaderboard(
        metric=result.spec.key,
        difference=difference,
        correction=correction,
        alpha=alpha,
        rows=tuple(rows),
        discoveries=discoveries,
        flags=flags,
    )
