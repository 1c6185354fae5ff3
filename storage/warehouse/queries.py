"""Named warehouse queries: written once in the Presto dialect (sql/<name>.sql), transpiled per engine.

Each query binds its values as `?` placeholders, in the order of its `params` (a name may repeat when the
SQL uses a value twice). Identifiers are never parameters: the few a query lets callers choose (a sort
column) are `{slot}`s in the SQL, filled only from that query's whitelist before the text is parsed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

SQL_DIR = Path(__file__).with_name("sql")
#: Dialects a query can be rendered in; the source is always "presto".
DIALECTS: tuple[str, ...] = ("presto", "trino", "duckdb")
_SLOT_RE = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class IdentifierSlot:
    """A `{name}` in a query's SQL that callers may fill with one of `allowed` (else `default`)."""

    name: str
    allowed: tuple[str, ...]
    default: str


@dataclass(frozen=True)
class NamedQuery:
    """A query's name, its Presto source, the parameter names of its `?`s in order, its identifier slots."""

    name: str
    presto_sql: str = field(repr=False)
    params: tuple[str, ...] = ()
    identifiers: tuple[IdentifierSlot, ...] = ()

    @property
    def param_names(self) -> frozenset[str]:
        """The distinct value parameters a caller must pass."""
        return frozenset(self.params)


def _day_check(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"day must be a 'YYYY-MM-DD' string, got {value!r}")
    try:
        dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"day {value!r} is not a calendar date") from exc
    return value


# Per-parameter checks beyond "is a plain scalar", applied wherever the name is used.
_PARAM_CHECKS: dict[str, Callable[[Any], Any]] = {"day": _day_check}
_SCALARS = (str, int, float, bool)


def _query_load(
    name: str, *, params: tuple[str, ...] = (), identifiers: tuple[IdentifierSlot, ...] = ()
) -> NamedQuery:
    """The query of sql/<name>.sql, checked now: it parses as Presto and has one `?` per parameter."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8").strip().rstrip(";")
    query = NamedQuery(name=name, presto_sql=text, params=params, identifiers=identifiers)
    slots = set(_SLOT_RE.findall(text))
    declared = {slot.name for slot in identifiers}
    if slots != declared:
        raise ValueError(f"query {name}: SQL slots {sorted(slots)} differ from declared {sorted(declared)}")
    for slot in identifiers:
        if slot.default not in slot.allowed:
            raise ValueError(f"query {name}: default {slot.default!r} of {{{slot.name}}} is not allowed")
    source = _slots_fill(query, {slot.name: slot.default for slot in identifiers})
    placeholders = list(sqlglot.parse_one(source, read="presto").find_all(exp.Placeholder))
    if len(placeholders) != len(params):
        raise ValueError(f"query {name}: {len(placeholders)} placeholders but {len(params)} params {params}")
    return query


def _slots_fill(query: NamedQuery, chosen: Mapping[str, str]) -> str:
    return _SLOT_RE.sub(lambda match: chosen[match.group(1)], query.presto_sql)


_SORTABLE_JOB_COLUMNS = (
    "created_ts",
    "assigned_ts",
    "delivered_ts",
    "delivery_s",
    "distance_m",
    "rejections",
    "waybills",
    "job",
)

QUERIES: dict[str, NamedQuery] = {
    query.name: query
    for query in (
        _query_load("jobs_view"),
        _query_load("job_events", params=("dataset", "job")),
        _query_load("entity_jobs", params=("dataset", "entity")),
        _query_load(
            "city_day_jobs",
            params=("dataset", "city", "day", "day"),
            identifiers=(IdentifierSlot(name="order", allowed=_SORTABLE_JOB_COLUMNS, default="created_ts"),),
        ),
        _query_load("dataset_counts"),
        _query_load("job_row", params=("dataset", "job")),
        _query_load("job_find", params=tuple(f"job{i}" for i in range(1, 9))),
        _query_load("incidents_found"),
    )
}


def query_get(name: str) -> NamedQuery:
    """The registered query `name`; ValueError naming the known ones otherwise."""
    try:
        return QUERIES[name]
    except KeyError:
        raise ValueError(f"unknown query {name!r}; known: {', '.join(sorted(QUERIES))}") from None


@lru_cache(maxsize=256)
def _sql_transpile(name: str, dialect: str, chosen: tuple[tuple[str, str], ...]) -> str:
    source = _slots_fill(QUERIES[name], dict(chosen))
    # RAISE: a Presto construct sqlglot cannot express in the target must fail here, not run differently.
    return sqlglot.transpile(
        source, read="presto", write=dialect, pretty=True, comments=False, unsupported_level=ErrorLevel.RAISE
    )[0]


def render(name: str, dialect: str, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """Query `name` as `dialect` SQL with `?` placeholders, and its values in placeholder order."""
    query = query_get(name)
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; known: {', '.join(DIALECTS)}")
    slots = {slot.name: slot for slot in query.identifiers}
    missing = sorted(query.param_names - params.keys())
    extra = sorted(params.keys() - query.param_names - slots.keys())
    if missing or extra:
        raise ValueError(
            f"query {name} takes {sorted(query.param_names | slots.keys())}; "
            + (f"missing {missing}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {extra}" if extra else "")
        )
    chosen: list[tuple[str, str]] = []
    for slot in query.identifiers:
        value = params.get(slot.name, slot.default)
        if value not in slot.allowed:
            raise ValueError(
                f"query {name}: {slot.name} must be one of {', '.join(slot.allowed)}; got {value!r}"
            )
        chosen.append((slot.name, value))
    values: list[Any] = []
    for param in query.params:
        value = params[param]
        if not isinstance(value, _SCALARS):
            raise ValueError(
                f"query {name}: {param} must be a str, int, float or bool, got {type(value).__name__}"
            )
        check = _PARAM_CHECKS.get(param)
        values.append(check(value) if check else value)
    return _sql_transpile(name, dialect, tuple(chosen)), values
