"""One playback socket's state, pure and clocked from outside: rate, credits, scope generation, playhead.

The consumer asks the session before doing anything, so every rule of docs/protocol.md that needs memory
lives here and is unit-tested without a socket."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from playback.limits import PlaybackLimits
from playback.protocol import ProtocolError
from playback.scopes import ScopeOpened

Admission = Literal["ok", "limited", "drop"]


@dataclass
class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up; each message takes one."""

    rate: float
    capacity: float
    tokens: float
    at: float

    def take(self, now: float) -> bool:
        """Take a token if there is one."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class Playhead:
    """The session's clock: a position, whether it runs, and how fast (a multiple of real time)."""

    ts: int = 0
    playing: bool = False
    speed: float = 1.0
    at: float = 0.0

    def now(self, wall: float) -> int:
        """The playhead at wall-clock time `wall` (seconds)."""
        if not self.playing:
            return self.ts
        return self.ts + int((wall - self.at) * 1000 * self.speed)

    def rebase(self, wall: float) -> None:
        """Fold the time played so far into `ts`."""
        self.ts, self.at = self.now(wall), wall


@dataclass
class Session:
    """What one socket remembers between messages."""

    limits: PlaybackLimits
    clock: Callable[[], float]
    opened: ScopeOpened | None = None
    #: Bumped by every successful open: answers computed for an older generation are dropped.
    generation: int = 0
    #: Fetch id -> whether its chunk was sent (and awaits the client's ack) or is still being read.
    in_flight: dict[int, Literal["reading", "sent"]] = field(default_factory=dict)
    playhead: Playhead = field(default_factory=Playhead)
    bucket: TokenBucket | None = None
    rate_warned: bool = False

    def admit(self) -> Admission:
        """Whether the next message may be handled: `limited` once when the rate is exceeded (the client
        gets one rate_limited error), then `drop` (no answer) until a token is back."""
        now = self.clock()
        if self.bucket is None:
            rate = float(self.limits.messages_per_second)
            self.bucket = TokenBucket(rate=rate, capacity=rate, tokens=rate, at=now)
        if self.bucket.take(now):
            self.rate_warned = False
            return "ok"
        if self.rate_warned:
            return "drop"
        self.rate_warned = True
        return "limited"

    def scope_replace(self, opened: ScopeOpened) -> int:
        """Make `opened` the session's scope; forget the old scope's fetches; the playhead at its start."""
        self.opened = opened
        self.generation += 1
        self.in_flight.clear()
        self.playhead = Playhead(ts=opened.start, playing=False, speed=1.0, at=self.clock())
        return self.generation

    def fetch_admit(self, request_id: int, entities: tuple[int, ...] | None) -> ScopeOpened:
        """Take a credit for fetch `request_id`; ProtocolError when there is no scope or no credit."""
        opened = self.scope_required(request_id)
        if request_id in self.in_flight:
            raise ProtocolError(
                "bad_request", f"fetch {request_id} is already in flight", request_id=request_id
            )
        if len(self.in_flight) >= self.limits.credits:
            raise ProtocolError(
                "too_many_in_flight",
                f"{len(self.in_flight)} fetches are unacknowledged; ack a chunk before fetching more",
                request_id=request_id,
                limit=self.limits.credits,
            )
        if entities is not None and any(i >= len(opened.entities) for i in entities):
            raise ProtocolError(
                "bad_request",
                f"`entities` must be indexes below {len(opened.entities)}",
                request_id=request_id,
            )
        self.in_flight[request_id] = "reading"
        return opened

    def fetch_sent(self, request_id: int, generation: int) -> bool:
        """Record that the chunk of a fetch goes out now; False when it belongs to a replaced scope."""
        if generation != self.generation or request_id not in self.in_flight:
            return False
        self.in_flight[request_id] = "sent"
        return True

    def fetch_failed(self, request_id: int, generation: int) -> bool:
        """Give back the credit of a fetch answered by an error; False when its scope was replaced."""
        if generation != self.generation:
            return False
        self.in_flight.pop(request_id, None)
        return True

    def ack(self, request_id: int) -> None:
        """Return the credit of a chunk the client has read. Acks of ids not in flight (a replaced
        scope's, say) are ignored; an ack of a chunk not yet sent is a bad request."""
        state = self.in_flight.get(request_id)
        if state == "reading":
            raise ProtocolError(
                "bad_request", f"the chunk of fetch {request_id} was not sent yet", request_id=request_id
            )
        if state == "sent":
            del self.in_flight[request_id]

    def scope_required(self, request_id: int) -> ScopeOpened:
        """The open scope, or ProtocolError no_scope."""
        if self.opened is None:
            raise ProtocolError("no_scope", "open a scope first", request_id=request_id)
        return self.opened

    def control(
        self, request_id: int, action: str, *, ts: int | None = None, speed: float | None = None
    ) -> Playhead:
        """Apply a control action (a seek is clamped into the scope's range)."""
        opened = self.scope_required(request_id)
        wall = self.clock()
        head = self.playhead
        head.rebase(wall)
        if action == "seek" and ts is not None:
            head.ts = min(max(ts, opened.start), opened.end)
        elif action == "play":
            head.playing = True
            head.speed = speed if speed is not None else head.speed
        elif action == "pause":
            head.playing = False
        elif action == "speed" and speed is not None:
            head.speed = speed
        return head

    def playhead_now(self) -> int:
        """The playhead now, held inside the scope's range."""
        opened = self.opened
        ts = self.playhead.now(self.clock())
        return ts if opened is None else min(max(ts, opened.start), opened.end)
