"""What one run produced, as the writer, the incident manifest and the metrics read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.city import City
from simulator.designs import Design
from simulator.events import Event
from simulator.fleet import Courier
from simulator.scenarios import ScenarioParams


@dataclass(frozen=True)
class RoundFailure:
    """A round whose strategy failed, and why."""

    round: str
    ts: int
    strategy: str
    error: str


@dataclass(frozen=True)
class JobRecord:
    """Outcome of one job, for metrics and the incident manifest."""

    job: str
    kind: str
    variant: str
    created_ts: int
    promised_ts: int | None
    picked_up_ts: int | None
    delivered_ts: int | None
    cancelled_ts: int | None
    attempts: int
    rejections: int
    entity: str | None
    cross_river: bool
    detour: float = 1.0  # road metres ÷ straight metres from the courier to the merchant when assigned


@dataclass
class RunResult:
    """Everything one run produced: its events, the entities' committed movements and per-job outcomes."""

    dataset: str
    scenario: str
    design: Design
    seed: int
    strategies: tuple[str, ...]
    city: City
    params: ScenarioParams
    start_ms: int
    end_ms: int
    events: list[Event]
    couriers: list[Courier]
    jobs: list[JobRecord]
    failures: list[RoundFailure]
    rounds: int
    eta_calls: int
    parked_entities: frozenset[str] = frozenset()
    extra_incidents: list[dict[str, Any]] = field(default_factory=list)
