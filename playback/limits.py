"""What one playback socket may ask for: one frozen set of limits, defaults overridable by settings.

`settings.PLAYBACK_LIMITS` (from the PLAYBACK_LIMITS environment variable, `name=value,…`) overrides any of
them; every manifest carries the limits in force (docs/protocol.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class PlaybackLimits:
    """Limits of one playback socket; each breach is an `error` frame and the socket stays open."""

    #: Fetches a client may have sent and not yet acknowledged (`ack`); one more is `too_many_in_flight`.
    credits: int = 4
    #: The longest full-resolution fetch window (ms).
    fetch_window_ms: int = 3_600_000
    #: The most fixes one chunk may hold (a fetch that would hold more is `window_too_long`).
    chunk_points: int = 500_000
    #: The most entities a scope replays (a job's assigned, offered and nearest excluded entities).
    scope_entities: int = 60
    #: The longest entity-scope window (ms).
    scope_window_ms: int = 86_400_000
    #: The largest text frame a client may send (bytes).
    message_bytes: int = 8192
    #: Messages a client may send per second, on average (a token bucket as deep as one second's worth).
    messages_per_second: int = 40

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if type(value) is not int or value < 1:
                raise ValueError(f"playback limit {f.name} must be a positive integer, not {value!r}")

    def as_dict(self) -> dict[str, int]:
        """The limits by name, as the manifest carries them."""
        return asdict(self)


LIMIT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(PlaybackLimits))


def limits_build(overrides: Mapping[str, int]) -> PlaybackLimits:
    """The defaults with `overrides` applied; ValueError naming an unknown limit or a bad value."""
    unknown = sorted(set(overrides) - set(LIMIT_NAMES))
    if unknown:
        raise ValueError(f"unknown playback limit(s) {', '.join(unknown)}; known: {', '.join(LIMIT_NAMES)}")
    return PlaybackLimits(**dict(overrides))
