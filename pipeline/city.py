"""The city document: a dataset's road graph and time zone, written by the simulator beside each run
(`roads.json`; pipeline/readers.py tells it from JSONL).

    {"city": "riverside", "timezone": "Asia/Shanghai", "classes": ["primary", "secondary", ...],
     "nodes": [[lat, lon], ...], "edges": [[a, b, class], ...], "dataset": optional}

`a` and `b` index `nodes`; `class` is a name from `classes` or its index there. `timezone` (an IANA name)
is optional: without it playback shows UTC. A `dataset` field wins over
the load's `--dataset`, as for rows. The document is validated whole (one bad node rejects it, since a map
with holes misleads) and kept as canonical JSON — keys sorted, `dataset` dropped, other keys kept — so the
same document always gives the same bytes and re-loading it stores nothing.
"""

from __future__ import annotations

import math
import zoneinfo
from dataclasses import dataclass
from typing import Any

import orjson

from pipeline.contract import RowError
from storage.grammar import DATASET_GRAMMAR, SHORT_NAME_GRAMMAR, dataset_is_valid, short_name_is_valid


@dataclass(frozen=True)
class CityDocument:
    """A validated city document and its canonical bytes."""

    dataset: str | None
    city: str
    timezone: str | None
    nodes: int
    edges: int
    classes: tuple[str, ...]
    canonical: bytes


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _nodes_check(nodes: Any) -> None:
    if not isinstance(nodes, list) or not nodes:
        raise RowError("bad_value", "nodes must be a non-empty list of [lat, lon]")
    for i, node in enumerate(nodes):
        if not (isinstance(node, list) and len(node) == 2 and _number(node[0]) and _number(node[1])):
            raise RowError("bad_value", f"nodes[{i}] is not [lat, lon]")
        if not (-90 <= node[0] <= 90 and -180 <= node[1] <= 180):
            raise RowError("bad_coordinate", f"nodes[{i}] = {node} is outside WGS84 degrees")


def _edges_check(edges: Any, n_nodes: int, classes: list[str]) -> None:
    if not isinstance(edges, list):
        raise RowError("bad_value", "edges must be a list of [a, b, class]")
    known = set(classes)
    for i, edge in enumerate(edges):
        if not (isinstance(edge, list) and len(edge) == 3):
            raise RowError("bad_value", f"edges[{i}] is not [a, b, class]")
        a, b, kind = edge
        for end in (a, b):
            if not (isinstance(end, int) and not isinstance(end, bool) and 0 <= end < n_nodes):
                raise RowError("bad_value", f"edges[{i}] names node {end!r}; nodes are 0..{n_nodes - 1}")
        by_index = isinstance(kind, int) and not isinstance(kind, bool) and 0 <= kind < len(classes)
        if not (by_index or (isinstance(kind, str) and kind in known)):
            raise RowError("bad_value", f"edges[{i}] has class {kind!r}, not one of classes")


def city_document_parse(raw: bytes) -> CityDocument:
    """The document in `raw`, validated; RowError (a quarantine reason) when it is not a city document."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RowError("invalid_json", f"not a JSON document: {exc}") from None
    if not isinstance(body, dict):
        raise RowError("invalid_json", "a city document is one JSON object")
    for name in ("city", "nodes", "edges", "classes"):
        if body.get(name) is None:
            raise RowError("missing_field", f"a city document needs `{name}`")
    dataset = body.pop("dataset", None)
    if dataset is not None and not dataset_is_valid(dataset):
        raise RowError("bad_dataset", f"dataset {dataset!r} is not {DATASET_GRAMMAR}")
    city, timezone, classes = body["city"], body.get("timezone"), body["classes"]
    if not short_name_is_valid(city):
        raise RowError("bad_city", f"city {city!r} is not a short name {SHORT_NAME_GRAMMAR}")
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise RowError("bad_value", f"timezone {timezone!r} is not an IANA time zone name") from None
    if not (isinstance(classes, list) and all(isinstance(c, str) and c for c in classes)):
        raise RowError("bad_value", "classes must be a list of road class names")
    if len(set(classes)) != len(classes):
        raise RowError("bad_value", "classes must not repeat a name")
    _nodes_check(body["nodes"])
    _edges_check(body["edges"], len(body["nodes"]), classes)
    return CityDocument(
        dataset=dataset,
        city=city,
        timezone=timezone,
        nodes=len(body["nodes"]),
        edges=len(body["edges"]),
        classes=tuple(classes),
        canonical=orjson.dumps(body, option=orjson.OPT_SORT_KEYS),
    )
