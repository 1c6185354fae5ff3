"""Template helpers for search answers: links that search an id, id kinds, counts and event details."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from dashboard.templatetags.timefmt import epoch_iso

register = template.Library()

# Event fields shown in their own columns, so the detail summary leaves them out.
_COLUMN_FIELDS = frozenset({"type", "id", "ts", "job", "entity", "round", "dataset"})
_SUMMARY_MAX_PAIRS = 6
_VALUE_MAX_CHARS = 48


@register.simple_tag
def search_url(dataset: str, query: str) -> str:
    """The shareable home-page URL that searches `query` in `dataset`."""
    return f"{reverse('home')}?{urlencode({'dataset': dataset, 'q': query})}"


@register.filter
def id_kind(value: str) -> str:
    """The `kind` of a `kind:id` string ("" when it has none)."""
    kind, sep, _ = value.partition(":")
    return kind if sep else ""


@register.filter
def id_local(value: str) -> str:
    """The part of a `kind:id` string after the kind (the whole string when it has no kind)."""
    kind, sep, rest = value.partition(":")
    return rest if sep else kind


@register.filter
def thousands(value: int | None) -> str:
    """An integer with thousands separators (`12,345`); "—" for None."""
    return "—" if value is None else f"{value:,}"


def _value_text(key: str, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int) and key.endswith("_ts"):
        return epoch_iso(value)
    if isinstance(value, Mapping):
        if "lat" in value and "lon" in value:
            return f"{value['lat']:.5f}, {value['lon']:.5f}"
        return "{" + ", ".join(str(k) for k in value) + "}"
    if isinstance(value, list | tuple):
        return f"{len(value)} item" + ("" if len(value) == 1 else "s")
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text if len(text) <= _VALUE_MAX_CHARS else text[: _VALUE_MAX_CHARS - 1] + "…"


@register.filter
def detail_pairs(detail: Mapping[str, Any]) -> list[tuple[str, str]]:
    """At most six (key, short text) pairs summarising an event's extra fields, lists shown as counts."""
    pairs = [
        (str(key), _value_text(str(key), value)) for key, value in detail.items() if key not in _COLUMN_FIELDS
    ]
    if len(pairs) > _SUMMARY_MAX_PAIRS:
        hidden = len(pairs) - _SUMMARY_MAX_PAIRS + 1
        pairs = [*pairs[: _SUMMARY_MAX_PAIRS - 1], ("…", f"{hidden} more fields")]
    return pairs


@register.filter
def detail_json(detail: Mapping[str, Any]) -> str:
    """The event's fields as indented JSON, for the expandable raw view."""
    return json.dumps(detail, indent=2, sort_keys=True, ensure_ascii=False, default=str)
