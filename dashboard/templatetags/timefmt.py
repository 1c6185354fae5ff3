"""Template filters for times kept as int64 epoch milliseconds UTC: ISO instants and human durations."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template

register = template.Library()

_UNITS_MS = (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1_000))


@register.filter
def epoch_iso(value: int | None) -> str:
    """`2026-11-25T10:04:05Z` (milliseconds shown only when non-zero); "—" for None."""
    if value is None:
        return "—"
    instant = datetime.fromtimestamp(value / 1000, tz=UTC)
    millis = value % 1000
    text = instant.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def duration_text(ms: int) -> str:
    """`2 h 5 min`, `45 s`, `850 ms`: the two largest units of a non-negative duration."""
    if ms < 1000:
        return f"{ms} ms"
    parts: list[str] = []
    rest = ms
    for unit, size in _UNITS_MS:
        count, rest = divmod(rest, size)
        if count or parts:
            parts.append(f"{count} {unit}")
        if len(parts) == 2:
            break
    # Drop a trailing zero unit: "2 h 0 min" reads better as "2 h".
    if len(parts) == 2 and parts[1].startswith("0 "):
        parts.pop()
    return " ".join(parts)


@register.filter
def duration_ms(value: int | None) -> str:
    """A duration in milliseconds as text (see duration_text); "—" for None."""
    if value is None:
        return "—"
    return duration_text(abs(value))


@register.simple_tag
def duration_between(start: int | None, end: int | None) -> str:
    """The time from `start` to `end` (epoch ms) as text; "—" when either is unknown."""
    if start is None or end is None:
        return "—"
    return duration_text(abs(end - start))
