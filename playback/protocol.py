"""Client requests of the playback protocol v1 (docs/protocol.md), parsed and checked: pure.

`request_parse` turns one text frame into a typed request or raises ProtocolError with the code the
client gets in its `error` frame. Checks that need the session (credits, no scope) are the session's."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from playback.limits import PlaybackLimits
from playback.scopes import EntityScope, JobScope, Scope, Suggestion
from storage.grammar import ID_GRAMMAR, dataset_problem, id_is_valid

ID_MAX = 0xFFFFFFFF
SPEED_MIN, SPEED_MAX = 0.25, 1000.0
#: A time the protocol accepts: epoch ms between 1970 and 2^53 (exact in a JavaScript number).
TS_MAX = (1 << 53) - 1
OPS = ("open", "fetch", "control", "join", "ack")
#: The longest fetch window at any resolution: a chunk's time offsets are i32 milliseconds.
FETCH_WINDOW_MAX_MS = (1 << 31) - 1
ACTIONS = ("play", "pause", "seek", "speed")


class ProtocolError(Exception):
    """A request the server refuses: `code` is the error frame's, `message` says why to a person."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        request_id: int | None = None,
        limit: int | None = None,
        suggestions: tuple[Suggestion, ...] = (),
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
        self.limit = limit
        self.suggestions = suggestions


@dataclass(frozen=True)
class OpenRequest:
    """`open`: replay this scope."""

    id: int
    scope: Scope


@dataclass(frozen=True)
class FetchRequest:
    """`fetch`: the scope's fixes with start <= ts <= end, at most one per entity per resolution_ms."""

    id: int
    start: int
    end: int
    resolution_ms: int
    entities: tuple[int, ...] | None


@dataclass(frozen=True)
class ControlRequest:
    """`control`: move the session's playhead."""

    id: int
    action: Literal["play", "pause", "seek", "speed"]
    ts: int | None
    speed: float | None


@dataclass(frozen=True)
class JoinRequest:
    """`join`: a shared room (reserved in v1)."""

    id: int
    room: str


@dataclass(frozen=True)
class AckRequest:
    """`ack`: the client has read the chunk of fetch `id`, returning its credit."""

    id: int


Request = OpenRequest | FetchRequest | ControlRequest | JoinRequest | AckRequest


def _int(body: dict[str, Any], name: str, request_id: int | None, *, lo: int, hi: int) -> int:
    value = body.get(name)
    if type(value) is not int or not lo <= value <= hi:
        raise ProtocolError("bad_request", f"`{name}` must be an integer {lo}..{hi}", request_id=request_id)
    return value


def _ts(body: dict[str, Any], name: str, request_id: int) -> int:
    return _int(body, name, request_id, lo=0, hi=TS_MAX)


def _speed(body: dict[str, Any], request_id: int, *, required: bool) -> float | None:
    value = body.get("speed")
    if value is None and not required:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ProtocolError("bad_request", "`speed` must be a number", request_id=request_id)
    if not SPEED_MIN <= value <= SPEED_MAX:
        raise ProtocolError(
            "bad_request", f"`speed` must be {SPEED_MIN} … {SPEED_MAX:g}", request_id=request_id
        )
    return float(value)


def _scope(body: dict[str, Any], request_id: int, limits: PlaybackLimits) -> Scope:
    raw = body.get("scope")
    if not isinstance(raw, dict):
        raise ProtocolError("bad_request", "`scope` must be an object", request_id=request_id)
    kind = raw.get("kind")
    if kind == "box":
        raise ProtocolError(
            "unsupported_scope", "this server does not serve area (box) scopes", request_id=request_id
        )
    if kind not in ("job", "entity"):
        raise ProtocolError("bad_request", "`scope.kind` must be job, entity or box", request_id=request_id)
    dataset = raw.get("dataset")
    problem = dataset_problem(dataset)
    if problem is not None:
        raise ProtocolError("bad_request", f"`scope.dataset`: {problem}", request_id=request_id)
    assert isinstance(dataset, str)
    name = "job" if kind == "job" else "entity"
    ident = raw.get(name)
    if not isinstance(ident, str) or not id_is_valid(ident):
        raise ProtocolError(
            "bad_request", f"`scope.{name}` must be an id {ID_GRAMMAR}", request_id=request_id
        )
    if kind == "job":
        return JobScope(dataset=dataset, job=ident)
    start, end = _ts(raw, "start", request_id), _ts(raw, "end", request_id)
    if end < start:
        raise ProtocolError("bad_request", "`scope.end` is before `scope.start`", request_id=request_id)
    if end - start > limits.scope_window_ms:
        raise ProtocolError(
            "scope_too_large",
            f"an entity window may cover at most {limits.scope_window_ms:,} ms",
            request_id=request_id,
            limit=limits.scope_window_ms,
        )
    return EntityScope(dataset=dataset, entity=ident, start=start, end=end)


def _fetch(body: dict[str, Any], request_id: int, limits: PlaybackLimits) -> FetchRequest:
    start, end = _ts(body, "start", request_id), _ts(body, "end", request_id)
    if end < start:
        raise ProtocolError("bad_request", "`end` is before `start`", request_id=request_id)
    resolution = body.get("resolution_ms", 0)
    if type(resolution) is not int or not 0 <= resolution <= ID_MAX:
        raise ProtocolError(
            "bad_request", "`resolution_ms` must be an integer 0..2^32-1", request_id=request_id
        )
    if end - start > FETCH_WINDOW_MAX_MS:
        raise ProtocolError(
            "window_too_long",
            f"a fetch may cover at most {FETCH_WINDOW_MAX_MS:,} ms (24.8 days) at any resolution",
            request_id=request_id,
            limit=FETCH_WINDOW_MAX_MS,
        )
    if resolution == 0 and end - start > limits.fetch_window_ms:
        raise ProtocolError(
            "window_too_long",
            f"a full-resolution fetch may cover at most {limits.fetch_window_ms:,} ms; "
            "fetch a shorter window or give resolution_ms",
            request_id=request_id,
            limit=limits.fetch_window_ms,
        )
    raw_entities = body.get("entities")
    entities: tuple[int, ...] | None = None
    if raw_entities is not None:
        if not isinstance(raw_entities, list) or not all(type(i) is int and i >= 0 for i in raw_entities):
            raise ProtocolError(
                "bad_request", "`entities` must be a list of entity indexes", request_id=request_id
            )
        entities = tuple(raw_entities)
    return FetchRequest(id=request_id, start=start, end=end, resolution_ms=resolution, entities=entities)


def _control(body: dict[str, Any], request_id: int) -> ControlRequest:
    action = body.get("action")
    if action == "seek":
        return ControlRequest(id=request_id, action="seek", ts=_ts(body, "ts", request_id), speed=None)
    if action == "play":
        return ControlRequest(
            id=request_id, action="play", ts=None, speed=_speed(body, request_id, required=False)
        )
    if action == "pause":
        return ControlRequest(id=request_id, action="pause", ts=None, speed=None)
    if action == "speed":
        return ControlRequest(
            id=request_id, action="speed", ts=None, speed=_speed(body, request_id, required=True)
        )
    raise ProtocolError("bad_request", f"`action` must be one of {', '.join(ACTIONS)}", request_id=request_id)


def request_parse(text: str, limits: PlaybackLimits) -> Request:
    """The request in one text frame (already checked against limits.message_bytes)."""
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_json", "the frame is not JSON") from None
    if not isinstance(body, dict):
        raise ProtocolError("bad_json", "a request is one JSON object")
    raw_id = body.get("id")
    request_id = raw_id if type(raw_id) is int and 1 <= raw_id <= ID_MAX else None
    op = body.get("op")
    if not isinstance(op, str):
        raise ProtocolError("bad_request", "`op` is missing", request_id=request_id)
    if op not in OPS:
        raise ProtocolError(
            "unknown_op", f"`op` {op!r} is not one of {', '.join(OPS)}", request_id=request_id
        )
    if request_id is None:
        raise ProtocolError("bad_request", "`id` must be an integer 1..2^32-1")
    if op == "open":
        return OpenRequest(id=request_id, scope=_scope(body, request_id, limits))
    if op == "fetch":
        return _fetch(body, request_id, limits)
    if op == "control":
        return _control(body, request_id)
    if op == "ack":
        return AckRequest(id=request_id)
    room = body.get("room")
    if not isinstance(room, str) or not room:
        raise ProtocolError("bad_request", "`room` must be a name", request_id=request_id)
    return JoinRequest(id=request_id, room=room)
