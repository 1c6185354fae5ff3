"""The playback WebSocket (`ws/playback/`, docs/protocol.md): a thin adapter from frames to the session,
the selectors and the wire codec.

Store reads and chunk encoding run in worker threads (`sync_to_async(thread_sensitive=False)`), never on
the event loop; fetches run as tasks so a new `open` can drop the old scope's answers while they are read.
"""

from __future__ import annotations

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.urls import reverse

from dashboard.roles import user_can_replay
from playback import selectors, wire
from playback.limits import PlaybackLimits, limits_build
from playback.protocol import (
    AckRequest,
    ControlRequest,
    FetchRequest,
    JoinRequest,
    OpenRequest,
    ProtocolError,
    Request,
    request_parse,
)
from playback.scopes import ScopeNotFound, ScopeOpened, ScopeTooManyPoints
from playback.session import Session
from storage.kv.base import TrackStoreError

#: Close code for a socket whose user may not replay (4000 + HTTP 403).
CLOSE_FORBIDDEN = 4403

logger = logging.getLogger(__name__)


def _chunk_read(*, request_id: int, opened: ScopeOpened, fetch: FetchRequest, limit: int) -> bytes:
    points = selectors.scope_points(
        opened=opened,
        start=fetch.start,
        end=fetch.end,
        resolution_ms=fetch.resolution_ms,
        entities=fetch.entities,
        point_limit=limit,
    )
    return wire.chunk_encode(request_id=request_id, points=points)


class PlaybackConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels ships no types
    """One playback socket: parse, authorise, delegate, send."""

    session: Session
    limits: PlaybackLimits

    async def connect(self) -> None:
        allowed = await database_sync_to_async(user_can_replay)(self.scope.get("user"))
        # Accept, then close with 4403: a refusal before accepting reaches a browser only as 1006.
        await self.accept()
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.limits = limits_build(settings.PLAYBACK_LIMITS)
        self.session = Session(limits=self.limits, clock=time.monotonic)
        self.tasks: set[asyncio.Task[None]] = set()

    async def disconnect(self, code: int) -> None:
        for task in getattr(self, "tasks", ()):
            task.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not hasattr(self, "session"):
            return  # refused at connect; nothing is answered
        admission = self.session.admit()
        if admission == "drop":
            return
        if admission == "limited":
            await self._error(
                ProtocolError(
                    "rate_limited",
                    f"more than {self.limits.messages_per_second} messages a second; "
                    "further messages are dropped unanswered until the rate falls",
                    limit=self.limits.messages_per_second,
                )
            )
            return
        try:
            if text_data is None:
                raise ProtocolError("binary_not_accepted", "requests are JSON text frames")
            if (
                len(text_data) > self.limits.message_bytes
                or len(text_data.encode()) > self.limits.message_bytes
            ):
                raise ProtocolError(
                    "message_too_large",
                    f"a request may be at most {self.limits.message_bytes} bytes",
                    limit=self.limits.message_bytes,
                )
            await self._handle(request_parse(text_data, self.limits))
        except ProtocolError as exc:
            await self._error(exc)

    async def _handle(self, request: Request) -> None:
        if isinstance(request, OpenRequest):
            await self._open(request)
        elif isinstance(request, FetchRequest):
            self._fetch(request)
        elif isinstance(request, AckRequest):
            self.session.ack(request.id)
        elif isinstance(request, ControlRequest):
            await self._control(request)
        elif isinstance(request, JoinRequest):
            raise ProtocolError("unsupported", "this server has no shared rooms", request_id=request.id)

    async def _open(self, request: OpenRequest) -> None:
        try:
            opened = await sync_to_async(selectors.scope_open, thread_sensitive=False)(
                scope=request.scope, entity_limit=self.limits.scope_entities
            )
        except ScopeNotFound as exc:
            raise ProtocolError(
                "not_found", exc.message, request_id=request.id, suggestions=exc.suggestions
            ) from None
        except TrackStoreError as exc:
            raise ProtocolError("store_unavailable", str(exc), request_id=request.id) from None
        for task in self.tasks:
            task.cancel()
        self.session.scope_replace(opened)
        roads = reverse("playback:roads", kwargs={"dataset": request.scope.dataset})
        await self.send(
            text_data=wire.manifest_json(
                request_id=request.id, opened=opened, limits=self.limits, roads_url=roads
            )
        )

    def _fetch(self, request: FetchRequest) -> None:
        opened = self.session.fetch_admit(request.id, request.entities)
        task = asyncio.create_task(self._fetch_answer(request, opened, self.session.generation))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _fetch_answer(self, request: FetchRequest, opened: ScopeOpened, generation: int) -> None:
        try:
            chunk = await sync_to_async(_chunk_read, thread_sensitive=False)(
                request_id=request.id, opened=opened, fetch=request, limit=self.limits.chunk_points
            )
        except ScopeTooManyPoints as exc:
            if self.session.fetch_failed(request.id, generation):
                await self._error(
                    ProtocolError(
                        "window_too_long",
                        f"{exc}; fetch a shorter window or a coarser resolution",
                        request_id=request.id,
                        limit=exc.limit,
                    )
                )
            return
        except TrackStoreError as exc:
            if self.session.fetch_failed(request.id, generation):
                await self._error(ProtocolError("store_unavailable", str(exc), request_id=request.id))
            return
        except Exception:
            # A bug must not keep the credit forever: the fetch is answered, the traceback logged.
            logger.exception("playback fetch %s failed", request.id)
            if self.session.fetch_failed(request.id, generation):
                message = "the server failed to read this window (the error is logged)"
                await self._error(ProtocolError("store_unavailable", message, request_id=request.id))
            return
        if self.session.fetch_sent(request.id, generation):
            await self.send(bytes_data=chunk)

    async def _control(self, request: ControlRequest) -> None:
        opened = self.session.scope_required(request.id)
        head = self.session.control(request.id, request.action, ts=request.ts, speed=request.speed)
        if request.action == "seek":
            try:
                snapshot = await sync_to_async(selectors.scope_snapshot, thread_sensitive=False)(
                    opened=opened, ts=head.ts
                )
            except TrackStoreError as exc:
                raise ProtocolError("store_unavailable", str(exc), request_id=request.id) from None
            if self.session.opened is not opened:
                return  # a new scope arrived meanwhile
            await self.send(text_data=wire.snapshot_json(request_id=request.id, snapshot=snapshot))
        await self.send(
            text_data=wire.state_json(
                request_id=request.id, ts=self.session.playhead_now(), playing=head.playing, speed=head.speed
            )
        )

    async def _error(self, exc: ProtocolError) -> None:
        await self.send(
            text_data=wire.error_json(
                request_id=exc.request_id,
                code=exc.code,
                message=exc.message,
                limit=exc.limit,
                suggestions=exc.suggestions,
            )
        )
