"""Writes for playback: recording a run's incident manifest so the landing page can list its incidents.

Input items are the `incidents` of a simulator manifest (simulator/incidents.py):
`{"kind", "ts", "jobs", "entity", ...}` plus a kind's own fields — `late_s` (late), `rejections`
(redispatched), `detour` and `late` (cross_river), `jump_m` (gps_jump), `round`/`strategy`/`error`
(failed_round), `area`/`zone` (dry_area). Within a kind the manifest lists the worst first; that position is
kept as the incident's rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from playback.models import Incident
from storage.grammar import dataset_problem

DESCRIPTION_MAX = 300
_TIMES = {1: "once", 2: "twice"}


class IncidentError(ValueError):
    """A manifest item that is not an incident (no kind, no integer ts, jobs not a list of ids)."""


def _times(n: int) -> str:
    return _TIMES.get(n, f"{n} times")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 60 else f"{round(seconds / 60)} min"


def incident_describe(item: Mapping[str, Any]) -> str:
    """One line a person reads to know what went wrong, e.g. "late by 12 min, delivered by courier:5"."""
    kind = str(item.get("kind", ""))
    entity = item.get("entity") or None
    jobs = [str(j) for j in item.get("jobs") or []]
    if kind == "late":
        text = f"late by {_minutes(int(item.get('late_s') or 0))}"
        return f"{text}, delivered by {entity}" if entity else text
    if kind == "redispatched":
        n = int(item.get("rejections") or 0)
        text = f"declined {_times(n)}"
        if entity is None:
            return f"{text}, never taken"
        return f"{text}, taken on the {_ordinal(n + 1)} offer by {entity}"
    if kind == "cross_river":
        detour = float(item.get("detour") or 1.0)
        text = f"sent across the river: {detour:.1f}× the straight line by road"
        return f"{text}, delivered late" if item.get("late") else text
    if kind == "gps_jump":
        text = f"GPS of {entity or 'an entity'} jumped {int(item.get('jump_m') or 0):,} m"
        return f"{text} while carrying {', '.join(jobs)}" if jobs else text
    if kind == "failed_round":
        return f"{item.get('round', 'a round')} failed ({item.get('strategy', '?')}): {item.get('error', '')}"
    if kind == "stale_fix":
        age = int(item.get("age_s") or 0)
        text = f"dispatched on a {_minutes(age)} old fix of {entity or 'a courier'}"
        return f"{text} for {jobs[0]}" if jobs else text
    if kind == "dry_area":
        return f"{item.get('area', 'an area')} in {item.get('zone', '?')} ran out of bikes"
    return kind.replace("_", " ")


def _incident_key(item: Mapping[str, Any], jobs: list[str], entity: str) -> str:
    # What tells two incidents of one kind apart inside a manifest; the round or area names the job-less ones.
    place = str(item.get("round") or item.get("area") or "")
    return f"{int(item['ts'])}|{','.join(jobs)}|{entity}|{place}"[:400]


def _incident_build(*, dataset: str, item: Mapping[str, Any], rank: int) -> Incident:
    kind, ts, raw_jobs = item.get("kind"), item.get("ts"), item.get("jobs", [])
    if not isinstance(kind, str) or not kind or len(kind) > 32:
        raise IncidentError(f"an incident needs a kind of 1–32 characters, got {kind!r}")
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise IncidentError(f"a {kind} incident needs an integer ts (epoch ms), got {ts!r}")
    if not isinstance(raw_jobs, list) or not all(isinstance(j, str) for j in raw_jobs):
        raise IncidentError(f"the jobs of a {kind} incident must be a list of ids, got {raw_jobs!r}")
    entity = str(item.get("entity") or "")
    shown = ("kind", "ts", "jobs", "entity")
    return Incident(
        dataset=dataset,
        kind=kind,
        key=_incident_key(item, raw_jobs, entity),
        rank=rank,
        ts=ts,
        jobs=list(raw_jobs),
        entity=entity,
        description=incident_describe(item)[:DESCRIPTION_MAX],
        detail={k: v for k, v in item.items() if k not in shown},
    )


def incidents_record(*, dataset: str, incidents: Iterable[Mapping[str, Any]]) -> int:
    """Store the incidents of `dataset` not stored yet and return how many were new (0 on a re-record).

    Raises IncidentError for a malformed item before anything is stored."""
    problem = dataset_problem(dataset)
    if problem is not None:
        raise IncidentError(problem)
    ranks: dict[str, int] = {}
    rows: dict[tuple[str, str], Incident] = {}
    for item in incidents:
        kind = str(item.get("kind", ""))
        row = _incident_build(dataset=dataset, item=item, rank=ranks.get(kind, 0))
        ranks[kind] = ranks.get(kind, 0) + 1
        rows.setdefault((row.kind, row.key), row)
    with transaction.atomic():
        stored = set(Incident.objects.filter(dataset=dataset).values_list("kind", "key"))
        new = [row for ident, row in rows.items() if ident not in stored]
        # ignore_conflicts: a concurrent recorder of the same manifest must not make this one fail.
        Incident.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)
