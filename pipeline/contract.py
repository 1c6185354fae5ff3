"""The log contract of DESIGN §4 as scalar checks: grammars, time bounds, reason codes and the reject record.

Every check either returns the normalised value or raises RowError(reason, detail); callers turn that into a
Reject with the row's line number. The columnar GPS path (pipeline/gps.py) applies the same rules as masks.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.grammar import (
    DATASET_GRAMMAR,
    ID_GRAMMAR,
    PLAUSIBLE_AHEAD_MS,
    PLAUSIBLE_START_MS,
    SHORT_NAME_GRAMMAR,
    dataset_is_valid,
    id_is_valid,
    short_name_is_valid,
)

#: Every quarantine reason code, with what it means (docs/log-format.md shows an example of each).
REASONS: dict[str, str] = {
    "invalid_json": "the line is not a JSON object",
    "malformed_row": "a CSV line with the wrong number of fields",
    "unknown_type": "an event `type` that is not part of the contract",
    "missing_field": "a required field is absent or null",
    "bad_timestamp": "a time that is neither integer epoch ms nor RFC 3339 with an offset",
    "implausible_timestamp": "a time before 2000-01-01 or more than one day in the future",
    "bad_id": f"an id that is not {ID_GRAMMAR}",
    "bad_coordinate": "a latitude outside [-90, 90], a longitude outside [-180, 180], or not a finite number",
    "bad_city": f"a city that is not a short name {SHORT_NAME_GRAMMAR}",
    "bad_zone": f"a zone that is not a short name {SHORT_NAME_GRAMMAR}",
    "bad_dataset": f"a row-level dataset that is not a dataset name {DATASET_GRAMMAR}",
    "bad_value": "a value of the wrong type, outside its range, not finite, or not one of the allowed words",
    "conflicting_duplicate": "same identity as a stored row but different content; the first one stays",
}

RFC3339_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


class RowError(Exception):
    """One row breaks the contract: `reason` is a code of REASONS, `detail` says what and where."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Reject:
    """A rejected row as written to quarantine: 1-based line (row number for Parquet), code, text, raw row."""

    line: int
    reason: str
    detail: str
    row: Any = field(hash=False)


@dataclass(frozen=True)
class TimeBounds:
    """The plausible time range [start_ms, end_ms] of one load (end is fixed when the load starts)."""

    start_ms: int
    end_ms: int


def time_bounds_now() -> TimeBounds:
    """2000-01-01 .. now + 1 day, in epoch ms."""
    return TimeBounds(start_ms=PLAUSIBLE_START_MS, end_ms=int(time.time() * 1000) + PLAUSIBLE_AHEAD_MS)


def rfc3339_to_ms(text: str) -> int | None:
    """Epoch ms UTC of an RFC 3339 time with an offset (sub-ms digits truncated); None if not one."""
    if RFC3339_PATTERN.fullmatch(text) is None:
        return None
    normalised = text.upper()
    if normalised[10] == " ":
        normalised = normalised[:10] + "T" + normalised[11:]
    try:
        parsed = datetime.fromisoformat(normalised)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the pattern requires an offset; this guards the invariant
        return None
    return (parsed - _EPOCH) // _MS


def check_ts(value: Any, name: str, bounds: TimeBounds) -> int:
    """A plausible time as epoch ms: an int, an integral float, or an RFC 3339 string with an offset."""
    if type(value) is int:
        ms = value
    elif type(value) is str:
        parsed = rfc3339_to_ms(value)
        if parsed is None:
            raise RowError("bad_timestamp", f"{name} {value!r} is not RFC 3339 with an offset")
        ms = parsed
    elif type(value) is float and math.isfinite(value) and value.is_integer():
        ms = int(value)
    elif value is None:
        raise RowError("missing_field", f"{name} is required")
    else:
        raise RowError("bad_timestamp", f"{name} {value!r} is not integer epoch ms or an RFC 3339 string")
    if ms < bounds.start_ms or ms > bounds.end_ms:
        raise RowError("implausible_timestamp", f"{name} {value!r} is outside 2000-01-01 .. now + 1 day")
    return ms


def check_id(value: Any, name: str) -> str:
    """A `kind:id` string."""
    if type(value) is str and id_is_valid(value):
        return value
    if value is None:
        raise RowError("missing_field", f"{name} is required")
    raise RowError("bad_id", f"{name} {value!r} is not {ID_GRAMMAR}")


def check_short_name(value: Any, name: str, reason: str) -> str:
    """A city or zone name ([A-Za-z0-9_-]{1,32}); `reason` is bad_city or bad_zone."""
    if type(value) is str and short_name_is_valid(value):
        return value
    if value is None:
        raise RowError("missing_field", f"{name} is required")
    raise RowError(reason, f"{name} {value!r} is not a short name {SHORT_NAME_GRAMMAR}")


def check_coordinate(value: Any, name: str, limit: float) -> float:
    """A finite number of degrees within [-limit, limit]."""
    kind = type(value)
    if (kind is float or kind is int) and -limit <= value <= limit:
        return float(value)
    if value is None:
        raise RowError("missing_field", f"{name} is required")
    raise RowError("bad_coordinate", f"{name} {value!r} is not a number in [-{limit:g}, {limit:g}]")


def check_number(
    value: Any, name: str, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """A finite number (not a bool), optionally within [minimum, maximum]."""
    kind = type(value)
    if (kind is float or kind is int) and math.isfinite(value):
        if (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
            return float(value)
        raise RowError("bad_value", f"{name} {value!r} is outside [{minimum}, {maximum}]")
    if value is None:
        raise RowError("missing_field", f"{name} is required")
    raise RowError("bad_value", f"{name} {value!r} is not a finite number")


def check_text(value: Any, name: str, *, max_length: int = 256) -> str:
    """A non-empty string of at most `max_length` characters."""
    if type(value) is str and 0 < len(value) <= max_length:
        return value
    if value is None:
        raise RowError("missing_field", f"{name} is required")
    raise RowError("bad_value", f"{name} {value!r} is not a string of 1-{max_length} characters")


def check_choice(value: Any, name: str, choices: frozenset[str]) -> str:
    """One of the allowed words."""
    if type(value) is str and value in choices:
        return value
    if value is None:
        raise RowError("missing_field", f"{name} is required")
    raise RowError("bad_value", f"{name} {value!r} is not one of {'|'.join(sorted(choices))}")


def check_dataset(value: Any) -> str:
    """A row-level dataset name."""
    if type(value) is str and dataset_is_valid(value):
        return value
    raise RowError("bad_dataset", f"dataset {value!r} is not a name {DATASET_GRAMMAR}")
