"""Small builders of stored events for the reconstruction tests."""

from __future__ import annotations

from typing import Any

from storage.tracks import StoredEvent

T0 = 1_700_000_000_000
JOB = "order:o1"


def event(type_: str, ts: int, **body: Any) -> StoredEvent:
    full = {"type": type_, "ts": ts, "job": JOB, **body}
    ident = body.pop("id", None) or f"ev:{type_}-{ts}-{body.get('entity', '')}-{body.get('waybill', '')}"
    full["id"] = ident
    return StoredEvent(id=ident, type=type_, ts=ts, body=full)


def created(ts: int = T0, **extra: Any) -> StoredEvent:
    return event(
        "job_created",
        ts,
        city="riverside",
        kind="delivery",
        zone="z1",
        pickup={"lat": 31.2, "lon": 121.4},
        dropoff={"lat": 31.21, "lon": 121.41},
        promised_ts=ts + 1_800_000,
        ready_ts=ts + 300_000,
        **extra,
    )


def dispatch_round(
    ts: int,
    name: str,
    *,
    candidates: list[dict[str, Any]],
    assigned: str | None = None,
    postponed: bool = False,
    excluded: list[tuple[str, str]] = (),  # type: ignore[assignment]
    jobs: int = 3,
) -> StoredEvent:
    body: dict[str, Any] = {
        "type": "dispatch_round",
        "id": f"ev:{name}",
        "round": name,
        "ts": ts,
        "city": "riverside",
        "strategy": "nearest",
        "strategy_version": "v2",
        "latency_ms": 12.5,
        "jobs": [JOB, *[f"order:x{i}" for i in range(jobs - 1)]],
        "candidates": [{"job": JOB, **c} for c in candidates] + [{"job": "order:x0", "entity": "courier:zz"}],
        "assignments": [{"job": JOB, "entity": assigned}] if assigned else [],
        "postponed": [JOB] if postponed else [],
        "excluded": [{"job": JOB, "entity": e, "reason": r} for e, r in excluded],
    }
    return StoredEvent(id=f"ev:{name}", type="dispatch_round", ts=ts, body=body)
