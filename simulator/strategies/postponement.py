"""Postponement threshold: hold an order back while its meal is far from ready, to bundle it later."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.strategies.base import Decision, RoundState
from simulator.strategies.hungarian import HungarianBundleStrategy


@dataclass(frozen=True)
class PostponeStrategy:
    """Bundled Hungarian, but an order whose meal is ready more than `threshold_s` from now is postponed,
    unless it has already waited `hold_max_s` since it was created."""

    radius_km: float = 4.0
    threshold_s: float = 300.0
    hold_max_s: float = 180.0
    bundle_radius_m: float = 400.0
    name: str = "postpone"
    version: str = "postpone-1"

    def decide(self, state: RoundState) -> Decision:
        """Postpone early orders; bundle and assign the rest."""
        postponed: list[int] = []
        release: list[int] = []
        for j, job in enumerate(state.jobs):
            waiting_s = (state.ts - job.created_ts) / 1000.0
            ready_in_s = (job.ready_ts - state.ts) / 1000.0
            if ready_in_s > self.threshold_s and waiting_s < self.hold_max_s and job.attempts == 0:
                postponed.append(j)
            else:
                release.append(j)
        inner = HungarianBundleStrategy(radius_km=self.radius_km, bundle_radius_m=self.bundle_radius_m)
        decision = inner.decide_jobs(state, release)
        return Decision(
            candidates=decision.candidates, assignments=decision.assignments, postponed=tuple(postponed)
        )
