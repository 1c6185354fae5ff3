"""Validation and normalisation of JSONL events (DESIGN §4) into StoredEvent values.

The body of a StoredEvent is the event as given with every contract field normalised: times as int epoch ms,
ids checked `kind:id` strings, coordinates as floats, optional fields that are null removed, unknown extra
fields kept. `dataset` is not part of the body (it is the scope the event is stored under). Without an `id`
the event's id is `ev:` + a hash (SHA-1, 128 bits) of its canonical normalised body, so the same event
always gets the same id.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

import orjson

from pipeline.contract import (
    RowError,
    TimeBounds,
    check_choice,
    check_coordinate,
    check_dataset,
    check_id,
    check_number,
    check_short_name,
    check_text,
    check_ts,
)
from storage.grammar import id_is_valid, switchback_cell_is_valid
from storage.tracks.types import StoredEvent

JOB_KINDS = frozenset({"delivery", "ride", "rebalance"})
ENTITY_STATES = frozenset({"online", "offline", "idle", "busy"})
LIFECYCLE_TYPES = frozenset(
    {
        "job_assigned",
        "job_accepted",
        "job_rejected",
        "job_arrived_pickup",
        "job_picked_up",
        "job_delivered",
        "job_cancelled",
    }
)
#: Event types that become rows of the `job_events` fact table.
JOB_EVENT_TYPES = frozenset({"job_created", *LIFECYCLE_TYPES})
EVENT_TYPES = frozenset(
    {"job_created", "dispatch_round", "entity_state", "experiment_assignment", *LIFECYCLE_TYPES}
)

# Ids repeat across events (the same couriers and jobs), so a bounded cache of ids already checked saves
# most regex work on the hot path.
_KNOWN_IDS: set[str] = set()
_KNOWN_IDS_LIMIT = 1_000_000


def _id(value: Any, name: str) -> str:
    if type(value) is str and value in _KNOWN_IDS:
        return value
    checked = check_id(value, name)
    if len(_KNOWN_IDS) >= _KNOWN_IDS_LIMIT:
        _KNOWN_IDS.clear()
    _KNOWN_IDS.add(checked)
    return checked


def _optional(body: dict[str, Any], name: str, check: Callable[[Any, str], Any]) -> Any:
    value = body.get(name)
    if value is None:
        body.pop(name, None)  # null means absent
        return None
    checked = check(value, name)
    body[name] = checked
    return checked


def _point(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        raise RowError("missing_field", f"{name} is required")
    if type(value) is not dict:
        raise RowError("bad_value", f"{name} is not an object {{lat, lon}}")
    point = dict(value)
    point["lat"] = check_coordinate(value.get("lat"), f"{name}.lat", 90.0)
    point["lon"] = check_coordinate(value.get("lon"), f"{name}.lon", 180.0)
    return point


def _city(value: Any, name: str) -> str:
    return check_short_name(value, name, "bad_city")


def _zone(value: Any, name: str) -> str:
    return check_short_name(value, name, "bad_zone")


def _object(value: Any, name: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise RowError("bad_value", f"{name} is not a JSON object")
    return value


def _list(value: Any, name: str) -> list[Any]:
    if type(value) is list:
        return value
    if value is None:
        raise RowError("missing_field", f"{name} is required")
    raise RowError("bad_value", f"{name} is not a list")


def _ids(value: Any, name: str) -> list[str]:
    items = _list(value, name)
    for i, item in enumerate(items):
        if not (type(item) is str and item in _KNOWN_IDS):
            _id(item, f"{name}[{i}]")
    return items


_CANDIDATE_NUMBERS: tuple[tuple[str, float | None], ...] = (
    ("score", None),
    ("eta_s", 0.0),
    ("distance_m", 0.0),
)


def _candidate_number(value: Any, name: str, minimum: float | None, i: int) -> float | None:
    if value is None:
        return None
    kind = type(value)
    if (kind is float or kind is int) and math.isfinite(value) and (minimum is None or value >= minimum):
        return float(value)
    return check_number(value, f"candidates[{i}].{name}", minimum=minimum)


def _candidate(raw: Any, i: int, bounds: TimeBounds) -> dict[str, Any]:
    # The hot path of dispatch_round: names for messages are built only when a check fails, and the
    # candidate is copied only when normalising changes it (so the raw row stays as read for quarantine).
    if type(raw) is not dict:
        raise RowError("bad_value", f"candidates[{i}] is not an object")
    job = raw.get("job")
    if not (type(job) is str and job in _KNOWN_IDS):
        _id(job, f"candidates[{i}].job")
    entity = raw.get("entity")
    if not (type(entity) is str and entity in _KNOWN_IDS):
        _id(entity, f"candidates[{i}].entity")
    changes: dict[str, Any] | None = None
    for name, minimum in _CANDIDATE_NUMBERS:
        value = raw.get(name)
        # value - value == 0.0 holds exactly for finite floats.
        if type(value) is float and value - value == 0.0 and (minimum is None or value >= minimum):
            continue
        if value is None and name not in raw:
            continue
        if changes is None:
            changes = {}
        changes[name] = _candidate_number(value, name, minimum, i)
    features = raw.get("features")
    if features is None:
        if "features" in raw:
            changes = changes or {}
            changes["features"] = None
    elif type(features) is not dict:
        raise RowError("bad_value", f"candidates[{i}].features is not a JSON object")
    position = raw.get("entity_pos")
    if position is not None or "entity_pos" in raw:
        changes = changes or {}
        if position is None:
            changes["entity_pos"] = None
        else:
            where = f"candidates[{i}].entity_pos"
            changes["entity_pos"] = pos = _point(position, where)
            if "ts" in position:
                pos["ts"] = check_ts(position["ts"], f"{where}.ts", bounds)
    if changes is None:
        return raw
    cand = dict(raw)
    for name, value in changes.items():
        if value is None:
            cand.pop(name, None)  # null means absent
        else:
            cand[name] = value
    return cand


def _pairs(value: Any, name: str, *, with_reason: bool) -> list[dict[str, Any]]:
    items = _list(value, name)
    out: list[dict[str, Any]] = []
    for i, raw in enumerate(items):
        if type(raw) is not dict:
            raise RowError("bad_value", f"{name}[{i}] is not an object")
        pair = dict(raw)
        pair["job"] = _id(raw.get("job"), f"{name}[{i}].job")
        pair["entity"] = _id(raw.get("entity"), f"{name}[{i}].entity")
        if with_reason and raw.get("reason") is not None:
            pair["reason"] = check_text(raw["reason"], f"{name}[{i}].reason")
        out.append(pair)
    return out


def _job_created(body: dict[str, Any], bounds: TimeBounds) -> None:
    body["job"] = _id(body.get("job"), "job")
    body["city"] = check_short_name(body.get("city"), "city", "bad_city")
    body["kind"] = check_choice(body.get("kind"), "kind", JOB_KINDS)
    body["pickup"] = _point(body.get("pickup"), "pickup")
    body["dropoff"] = _point(body.get("dropoff"), "dropoff")
    _optional(body, "zone", _zone)
    _optional(body, "promised_ts", lambda v, n: check_ts(v, n, bounds))
    _optional(body, "ready_ts", lambda v, n: check_ts(v, n, bounds))
    _optional(body, "attrs", _object)


def _dispatch_round(body: dict[str, Any], bounds: TimeBounds) -> None:
    body["round"] = _id(body.get("round"), "round")
    body["city"] = check_short_name(body.get("city"), "city", "bad_city")
    body["strategy"] = check_text(body.get("strategy"), "strategy", max_length=128)
    body["jobs"] = _ids(body.get("jobs"), "jobs")
    candidates = _list(body.get("candidates"), "candidates")
    body["candidates"] = [_candidate(raw, i, bounds) for i, raw in enumerate(candidates)]
    body["assignments"] = _pairs(body.get("assignments"), "assignments", with_reason=False)
    _optional(body, "latency_ms", lambda v, n: check_number(v, n, minimum=0.0))
    _optional(body, "strategy_version", lambda v, n: check_text(v, n, max_length=128))
    _optional(body, "postponed", _ids)
    _optional(body, "excluded", lambda v, n: _pairs(v, n, with_reason=True))


def _lifecycle(body: dict[str, Any], bounds: TimeBounds) -> None:
    body["job"] = _id(body.get("job"), "job")
    _optional(body, "entity", _id)
    _optional(body, "round", _id)
    _optional(body, "waybill", _id)
    _optional(body, "reason", check_text)
    _optional(body, "city", _city)


def _capacity(value: Any, name: str) -> int:
    if type(value) is int and 0 <= value <= 2**31 - 1:
        return value
    raise RowError("bad_value", f"{name} {value!r} is not a non-negative integer")


def _entity_state(body: dict[str, Any], bounds: TimeBounds) -> None:
    body["entity"] = _id(body.get("entity"), "entity")
    body["state"] = check_choice(body.get("state"), "state", ENTITY_STATES)
    _optional(body, "city", _city)
    _optional(body, "capacity", _capacity)


def _unit(value: Any, name: str) -> str:
    if type(value) is str and (id_is_valid(value) or switchback_cell_is_valid(value)):
        return value
    if value is None:
        raise RowError("missing_field", f"{name} is required")
    raise RowError(
        "bad_id", f"{name} {value!r} is neither kind:id nor a switchback cell city|zone|slot_start_ms"
    )


def _experiment_assignment(body: dict[str, Any], bounds: TimeBounds) -> None:
    body["experiment"] = check_text(body.get("experiment"), "experiment", max_length=128)
    body["unit"] = _unit(body.get("unit"), "unit")
    body["variant"] = check_text(body.get("variant"), "variant", max_length=128)
    _optional(body, "city", _city)


_NORMALISERS: dict[str, Callable[[dict[str, Any], TimeBounds], None]] = {
    "job_created": _job_created,
    "dispatch_round": _dispatch_round,
    "entity_state": _entity_state,
    "experiment_assignment": _experiment_assignment,
    **dict.fromkeys(LIFECYCLE_TYPES, _lifecycle),
}


def event_id_derive(body: dict[str, Any]) -> str:
    """`ev:` + 128 bits of the SHA-1 of the canonical (sorted-key) JSON of `body` without its `id`."""
    content = body if "id" not in body else {key: value for key, value in body.items() if key != "id"}
    # SHA-1 is not here for security, only as a stable, hardware-accelerated content hash.
    digest = hashlib.sha1(orjson.dumps(content, option=orjson.OPT_SORT_KEYS), usedforsecurity=False)
    return "ev:" + digest.hexdigest()[:32]


def event_normalise(
    row: dict[str, Any], *, default_dataset: str, bounds: TimeBounds
) -> tuple[str, StoredEvent]:
    """The row's dataset and its validated, normalised event; raises RowError naming the first problem."""
    kind = row.get("type")
    normalise = _NORMALISERS.get(kind) if type(kind) is str else None
    if normalise is None:
        if kind is None:
            raise RowError("missing_field", "type is required (or lat/lon for a GPS row)")
        raise RowError("unknown_type", f"type {kind!r} is not one of {', '.join(sorted(EVENT_TYPES))}")
    body = dict(row)
    dataset_value = body.pop("dataset", None)
    dataset = default_dataset if dataset_value is None else check_dataset(dataset_value)
    body["ts"] = ts = check_ts(row.get("ts"), "ts", bounds)
    normalise(body, bounds)
    given = row.get("id")
    if given is None:
        body.pop("id", None)
        body["id"] = event_id = event_id_derive(body)
    else:
        body["id"] = event_id = _id(given, "id")
    return dataset, StoredEvent(id=event_id, type=str(kind), ts=ts, body=body)
