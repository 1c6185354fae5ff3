"""The search box's one answer: every dataset that holds an id, from the track store and the warehouse.

Both stores answer in one shape, `SearchAnswer`: hits (one per dataset and id, saying which store knows
it) grouped production first, then by simulated scenario, and the problems of a store that could not be
read, each naming the store and its engine. Views only render it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from dashboard.selectors import optional_int
from playback import selectors as track_selectors
from playback.lookup import Lookup
from storage.connections import warehouses
from storage.grammar import ID_GRAMMAR, id_is_valid
from storage.kv.base import TrackStoreError
from storage.warehouse.base import WarehouseError

PRODUCTION_GROUP = "Production"
#: Simulated datasets are named `sim-<scenario>-<strategy or design>-<seed>` (simulator/designs.py).
SIMULATION_PREFIX = "sim-"
SCENARIOS = ("food-delivery", "bike-sharing")


@dataclass(frozen=True)
class SearchHit:
    """One dataset that knows the id: what it is there, its time span, and which store holds it."""

    dataset: str
    kind: Literal["job", "entity"]
    ident: str
    first_ts: int | None
    last_ts: int | None
    points: int
    events: int
    in_track_store: bool
    in_warehouse: bool

    @property
    def group(self) -> str:
        """`Production`, or `Simulation · <scenario>` for a simulated dataset."""
        return dataset_group(self.dataset)

    @property
    def playable(self) -> bool:
        """True when the track store holds it, so it can be replayed."""
        return self.in_track_store


@dataclass(frozen=True)
class StoreProblem:
    """A store that could not answer: which one, its engine, and its message."""

    store: Literal["track store", "warehouse"]
    engine: str
    message: str


@dataclass(frozen=True)
class SearchAnswer:
    """Every hit for a query, the stores' problems, and how long each store took."""

    query: str
    hits: tuple[SearchHit, ...]
    problems: tuple[StoreProblem, ...]
    track_ms: float
    warehouse_ms: float
    warehouse_engine: str

    @property
    def groups(self) -> list[tuple[str, list[SearchHit]]]:
        """Hits by group: production first, then each simulated scenario by name."""
        by_group: dict[str, list[SearchHit]] = {}
        for hit in self.hits:
            by_group.setdefault(hit.group, []).append(hit)
        order = sorted(by_group, key=lambda g: (g != PRODUCTION_GROUP, g))
        return [(group, by_group[group]) for group in order]

    @property
    def single_playable(self) -> SearchHit | None:
        """The hit to open directly: the only hit, when the track store holds it."""
        if len(self.hits) == 1 and self.hits[0].playable:
            return self.hits[0]
        return None


class QueryError(ValueError):
    """The text cannot be an id (typed `kind:id` or bare)."""


def dataset_group(dataset: str) -> str:
    """The group a dataset is listed under in search results."""
    if dataset.startswith(SIMULATION_PREFIX):
        rest = dataset[len(SIMULATION_PREFIX) :]
        for scenario in SCENARIOS:
            if rest.startswith(scenario + "-"):
                return f"Simulation · {scenario}"
        return "Simulation"
    return PRODUCTION_GROUP


def query_ids(query: str) -> list[str]:
    """The typed ids a search text may mean: itself when typed, else the bare id under every known kind.

    Raises QueryError when no reading of it is an id."""
    text = query.strip()
    candidates = track_selectors.query_candidates(text)
    valid = [c for c in candidates if id_is_valid(c)]
    if not valid:
        raise QueryError(f"{text!r} is not an id: ids are {ID_GRAMMAR}, or the part after the colon")
    return valid


def search_answer(*, query: str, datasets: Sequence[str] | None = None) -> SearchAnswer:
    """Look `query` up in every dataset (or only `datasets`) of both stores; QueryError for a non-id."""
    ids = query_ids(query)
    problems: list[StoreProblem] = []
    hits: dict[tuple[str, str], SearchHit] = {}

    started = time.perf_counter()
    try:
        names = [d.name for d in track_selectors.datasets()]
        for name in names if datasets is None else [n for n in names if n in datasets]:
            found = track_selectors.lookup(dataset=name, query=query)
            hit = _hit_from_lookup(found)
            if hit is not None:
                hits[(hit.dataset, hit.ident)] = hit
    except TrackStoreError as exc:
        problems.append(StoreProblem(store="track store", engine=_track_engine(), message=str(exc)))
    track_ms = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    engine = ""
    try:
        warehouse = warehouses["default"]
        engine = warehouse.engine
        frame = warehouse.query("job_find", **_job_find_params(ids)).frame
        for row in frame.to_dict("records"):
            dataset, job = str(row["dataset"]), str(row["job"])
            if datasets is not None and dataset not in datasets:
                continue
            known = hits.get((dataset, job))
            if known is not None:
                hits[(dataset, job)] = replace(known, in_warehouse=True)
            else:
                hits[(dataset, job)] = _hit_from_warehouse(dataset, job, row)
    except WarehouseError as exc:
        problems.append(StoreProblem(store="warehouse", engine=engine, message=str(exc)))
    warehouse_ms = (time.perf_counter() - started) * 1000

    ordered = sorted(hits.values(), key=lambda h: (h.group != PRODUCTION_GROUP, h.group, h.dataset, h.ident))
    return SearchAnswer(
        query=query.strip(),
        hits=tuple(ordered),
        problems=tuple(problems),
        track_ms=track_ms,
        warehouse_ms=warehouse_ms,
        warehouse_engine=engine,
    )


#: The job_find query takes this many ids; a typed query repeats its one id.
JOB_FIND_IDS = 8


def _job_find_params(ids: Sequence[str]) -> dict[str, str]:
    padded = list(ids[:JOB_FIND_IDS]) + [ids[0]] * (JOB_FIND_IDS - min(len(ids), JOB_FIND_IDS))
    return {f"job{i + 1}": job for i, job in enumerate(padded)}


def _hit_from_lookup(found: Lookup) -> SearchHit | None:
    if found.kind == "job" and found.job is not None:
        return SearchHit(
            dataset=found.dataset,
            kind="job",
            ident=found.job.job,
            first_ts=found.job.first_ts,
            last_ts=found.job.last_ts,
            points=0,
            events=len(found.job.events),
            in_track_store=True,
            in_warehouse=False,
        )
    if found.kind == "entity" and found.entity is not None:
        return SearchHit(
            dataset=found.dataset,
            kind="entity",
            ident=found.entity.entity,
            first_ts=found.entity.first_ts,
            last_ts=found.entity.last_ts,
            points=found.entity.points,
            events=0,
            in_track_store=True,
            in_warehouse=False,
        )
    return None


def _hit_from_warehouse(dataset: str, job: str, row: Mapping[Any, Any]) -> SearchHit:
    first = optional_int(row.get("created_ts"))
    last = optional_int(row.get("last_ts"))
    events = optional_int(row.get("events")) or 0
    return SearchHit(
        dataset=dataset,
        kind="job",
        ident=job,
        first_ts=first,
        last_ts=last,
        points=0,
        events=events,
        in_track_store=False,
        in_warehouse=True,
    )


def _track_engine() -> str:
    try:
        from storage.connections import track_stores

        return track_stores["default"].engine
    except TrackStoreError:
        return ""


__all__ = [
    "QueryError",
    "SearchAnswer",
    "SearchHit",
    "StoreProblem",
    "dataset_group",
    "query_ids",
    "search_answer",
]
