"""Template helpers for search answers: links that search an id, id kinds, counts and event details."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from playback.selectors import JOB_KINDS

register = template.Library()

# Event fields shown in their own columns, so the detail summary leaves them out.
_COLUMN_FIELDS = frozenset({"type", "id", "ts", "job", "entity", "round", "dataset"})
_SUMMARY_MAX_PAIRS = 6
_VALUE_MAX_CHARS = 48


@register.simple_tag
def search_url(dataset: str, query: str) -> str:
    """The shareable home-page URL that searches `query` in `dataset` (every dataset when empty)."""
    params = {"dataset": dataset, "q": query} if dataset else {"q": query}
    return f"{reverse('home')}?{urlencode(params)}"


@register.simple_tag
def playback_url(hit: Any) -> str:
    """The playback page of a search hit."""
    key = "job" if hit.kind == "job" else "entity"
    return f"{reverse('playback')}?{urlencode({'dataset': hit.dataset, key: hit.ident})}"


@register.simple_tag
def replay_url(dataset: str, ident: str) -> str:
    """The playback page of an id in a dataset (an order's flow, or an entity's track)."""
    kind = ident.split(":", 1)[0]
    key = "job" if kind in JOB_KINDS else "entity"
    return f"{reverse('playback')}?{urlencode({'dataset': dataset, key: ident})}"


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
