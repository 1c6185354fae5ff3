"""A job's state through a run (deliveries, rides and rebalancing tasks alike) and its outcome record.

A job's pickup and delivery times are not tracked twice: its record reads them from the run's
`job_picked_up` / `job_delivered` events (the last of each, in emission order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from simulator.events import Event
from simulator.results import JobRecord


@dataclass
class JobState:
    """Mutable state of one job: where and when, its strategy, its dispatch attempts and how it ended."""

    index: int
    job: str
    kind: str
    zone: str
    variant: str
    pickup: int
    dropoff: int
    created_ts: int
    ready_ts: int
    promised_ts: int | None
    available_ts: int
    attempts: int = 0
    rejections: int = 0
    declined_by: set[int] = field(default_factory=set)
    entity: str | None = None
    cross_river: bool = False
    detour: float = 1.0
    done: bool = False
    cancelled_ts: int | None = None


def job_records(*, jobs: Sequence[JobState], events: Sequence[Event]) -> list[JobRecord]:
    """One record per job, in the order given."""
    picked: dict[str, int] = {}
    delivered: dict[str, int] = {}
    for e in events:
        if e["type"] == "job_picked_up":
            picked[e["job"]] = e["ts"]
        elif e["type"] == "job_delivered":
            delivered[e["job"]] = e["ts"]
    return [
        JobRecord(
            job=s.job,
            kind=s.kind,
            variant=s.variant,
            created_ts=s.created_ts,
            promised_ts=s.promised_ts,
            picked_up_ts=picked.get(s.job),
            delivered_ts=delivered.get(s.job),
            cancelled_ts=s.cancelled_ts,
            attempts=s.attempts,
            rejections=s.rejections,
            entity=s.entity,
            cross_river=s.cross_river,
            detour=s.detour,
        )
        for s in jobs
    ]
