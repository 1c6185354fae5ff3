"""WebSocket routes (playback streaming joins here)."""

from typing import Any

websocket_urlpatterns: list[Any] = []
