"""WebSocket routes: playback streaming (docs/protocol.md)."""

from typing import Any

from django.urls import path

from playback.consumers import PlaybackConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/playback/", PlaybackConsumer.as_asgi(), name="playback-socket"),
]
