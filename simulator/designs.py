"""Experiment designs: which strategy handles each job, and the `experiment_assignment` events that say so.

`paired` runs one strategy per dataset on common random numbers (the same orders, shifts and decline draws);
`ab` splits jobs between strategies by a hash of the job inside one run; `switchback` gives each
city × zone × 30-minute cell one strategy, announced once per cell at the slot start.
Datasets are named `sim-<scenario>-<strategy|ab|switchback>-<seed>`; the experiment of a run is
`sim-<scenario>-<design>-<seed>`, its unit the job (paired, ab) or the cell `city|zone|slot_start_ms`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Literal

from simulator.draws import unit_draw
from simulator.events import Event, experiment_assignment_event

Design = Literal["paired", "ab", "switchback"]
DESIGNS: tuple[Design, ...] = ("paired", "ab", "switchback")
SWITCHBACK_SLOT_MS = 30 * 60_000


def dataset_name(*, scenario: str, strategy_or_design: str, seed: int) -> str:
    """`sim-<scenario>-<strategy>-<seed>` (or the design name for multi-strategy runs)."""
    return f"sim-{scenario}-{strategy_or_design}-{seed}"


def switchback_slot_start(ts: int) -> int:
    """Start (epoch ms) of the switchback slot holding `ts`."""
    return ts // SWITCHBACK_SLOT_MS * SWITCHBACK_SLOT_MS


@dataclass
class Experiment:
    """One run's experiment: the strategy of each job and the assignment events, each switchback cell once."""

    design: Design
    scenario: str
    seed: int
    city: str
    strategies: tuple[str, ...]
    _cells: set[str] = field(default_factory=set, init=False, repr=False)

    @property
    def name(self) -> str:
        """`sim-<scenario>-<design>-<seed>`."""
        return f"sim-{self.scenario}-{self.design}-{self.seed}"

    def variant(self, *, job_no: int, zone: str, created_ts: int) -> str:
        """The strategy that dispatches job number `job_no`, created in `zone` at `created_ts`."""
        names = self.strategies
        if self.design == "paired" or len(names) == 1:
            return names[0]
        if self.design == "ab":
            return names[int(unit_draw(self.seed, 11, job_no) * len(names))]
        slot = created_ts // SWITCHBACK_SLOT_MS
        return names[int(unit_draw(self.seed, 13, zlib.crc32(zone.encode()), slot) * len(names))]

    def assignments(self, *, job: str, zone: str, variant: str, created_ts: int) -> list[Event]:
        """The `experiment_assignment` events a new job causes: its own, or its cell's if the cell is new."""
        if self.design != "switchback":
            return [
                experiment_assignment_event(
                    experiment=self.name, unit=job, variant=variant, ts=created_ts, city=self.city
                )
            ]
        slot = switchback_slot_start(created_ts)
        unit = f"{self.city}|{zone}|{slot}"
        if unit in self._cells:
            return []
        self._cells.add(unit)
        return [
            experiment_assignment_event(
                experiment=self.name, unit=unit, variant=variant, ts=slot, city=self.city
            )
        ]
