"""What every scenario's run shares: its city, clock, log, job book and experiment, the dispatch of each
tick, and the assembled result.

A run steps through ticks every `round_interval_s` from the start of demand; after demand stops, ticks go
on for `DRAIN_MS` at most so started jobs can finish. Between ticks couriers commit the stops they started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.city import City, city_for
from simulator.demand import sim_start_ms
from simulator.designs import Design, Experiment
from simulator.events import EventLog
from simulator.fleet import Courier, JobBook
from simulator.jobs import JobState, job_records
from simulator.results import RoundFailure, RunResult
from simulator.rounds import tick_dispatch
from simulator.scenarios import ScenarioParams
from simulator.strategies.base import Strategy

#: After demand stops, rounds go on this long at most so started orders can finish.
DRAIN_MS = 2 * 3_600_000

Progress = Callable[[float], None]


@dataclass
class RunFrame:
    """The shared, mutable state of one run; a scenario's `run` adds its own fleet and demand."""

    params: ScenarioParams
    strategies: dict[str, Strategy]
    design: Design
    dataset: str
    city: City
    start_ms: int
    end_ms: int
    experiment: Experiment
    log: EventLog = field(default_factory=EventLog)
    book: JobBook = field(default_factory=JobBook)
    failures: list[RoundFailure] = field(default_factory=list)
    rounds: int = 0
    eta_calls: int = 0
    now: int = 0  # the current tick; after the clock stops, the tick it stopped at

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.params.seed

    def ticks(self, *, progress: Progress | None) -> Iterator[int]:
        """Tick times from the start to the drain limit; a scenario breaks out when it is done."""
        interval = self.params.round_interval_s * 1000
        ts = self.start_ms
        while ts <= self.end_ms + DRAIN_MS:
            self.now = ts
            yield ts
            if progress is not None:
                progress(min(1.0, (ts - self.start_ms) / max(1, self.end_ms - self.start_ms)))
            ts += interval
        self.now = ts

    def job_announce(self, job: JobState) -> None:
        """Emit the experiment assignment a new dispatched job causes (after its `job_created`)."""
        for event in self.experiment.assignments(
            job=job.job, zone=job.zone, variant=job.variant, created_ts=job.created_ts
        ):
            self.log.emit(event)

    def dispatch(
        self, *, pending: list[JobState], fleet: list[Courier], online: list[Courier], decline_base: float
    ) -> list[JobState]:
        """Run this tick's rounds for the `online` part of `fleet` when jobs and couriers are both there;
        return the jobs still pending."""
        pending = [s for s in pending if not s.done]
        if not pending or not online:
            return pending
        on_shift = {c.index for c in online}
        self.eta_calls += tick_dispatch(
            pending=pending,
            online=online,
            off_shift=[c for c in fleet if c.index not in on_shift],
            strategies=self.strategies,
            round_no=self.rounds,
            ts=self.now,
            city=self.city,
            book=self.book,
            log=self.log,
            radius_km=self.params.search_radius_km,
            eta_budget=self.params.eta_budget,
            decline_base=decline_base,
            seed=self.seed,
            failures=self.failures,
        )
        self.rounds += 1
        return [s for s in pending if not s.done]

    def result(
        self,
        *,
        couriers: list[Courier],
        jobs: Sequence[JobState],
        parked_entities: frozenset[str] = frozenset(),
        extra_incidents: list[dict[str, Any]] | None = None,
    ) -> RunResult:
        """The run's result, with one record per job of `jobs` in that order."""
        return RunResult(
            dataset=self.dataset,
            scenario=self.params.scenario,
            design=self.design,
            seed=self.seed,
            strategies=self.experiment.strategies,
            city=self.city,
            params=self.params,
            start_ms=self.start_ms,
            end_ms=self.end_ms,
            events=self.log.events,
            couriers=couriers,
            jobs=job_records(jobs=jobs, events=self.log.events),
            failures=self.failures,
            rounds=self.rounds,
            eta_calls=self.eta_calls,
            parked_entities=parked_entities,
            extra_incidents=extra_incidents or [],
        )


def run_open(
    *,
    params: ScenarioParams,
    strategies: dict[str, Strategy],
    design: Design,
    dataset: str,
    city: City | None,
) -> RunFrame:
    """A run's frame: the city (generated from the seed unless given), the demand window, the experiment."""
    city = city or city_for(params=params.city, seed=params.seed)
    start = sim_start_ms(start_local_hour=params.start_local_hour, utc_offset_h=city.utc_offset_h)
    return RunFrame(
        params=params,
        strategies=strategies,
        design=design,
        dataset=dataset,
        city=city,
        start_ms=start,
        end_ms=start + round(params.hours * 3_600_000),
        experiment=Experiment(
            design=design,
            scenario=params.scenario,
            seed=params.seed,
            city=city.name,
            strategies=tuple(sorted(strategies)),
        ),
    )
