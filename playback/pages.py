"""The playback page: a thin view that parses the deep link, authorises, and renders the page's config."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard.roles import replay_required
from playback import selectors
from playback.forms import PlaybackForm
from storage.kv.base import TrackStoreError

#: An entity replay without a window shows its last this-many hours of track.
DEFAULT_ENTITY_WINDOW_MS = 4 * 3_600_000


def _ws_url(request: HttpRequest) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}/ws/playback/"


@replay_required
def playback_page(request: HttpRequest) -> HttpResponse:
    """/playback/?dataset=…&job=… (or entity=…&start=…&end=…), with t, speed, follow and loop."""
    form = PlaybackForm(request.GET)
    if not form.is_valid():
        return render(request, "playback/invalid.html", {"form": form}, status=400)
    scope = form.scope()
    if scope["kind"] == "entity" and "start" not in scope:
        try:
            found = selectors.lookup(dataset=scope["dataset"], query=scope["entity"])
        except TrackStoreError as exc:
            return render(request, "playback/invalid.html", {"store_error": str(exc)}, status=503)
        if found.entity is not None and found.entity.last_ts is not None:
            last = found.entity.last_ts
            first = found.entity.first_ts if found.entity.first_ts is not None else last
            scope.update(start=max(first, last - DEFAULT_ENTITY_WINDOW_MS), end=last)
        else:
            scope.update(start=0, end=1)  # the socket answers not_found with suggestions
    data = form.cleaned_data
    config: dict[str, Any] = {
        "wsUrl": _ws_url(request),
        "scope": scope,
        "t": data.get("t"),
        "speed": data.get("speed"),
        "follow": data.get("follow"),
        "loop": form.loop_range(),
        "basemapTiles": settings.PLAYBACK_BASEMAP_TILES,
        "searchUrl": reverse("home"),
        "entityUrl": reverse("playback"),
        "plotlyUrl": settings.PLOTLY_JS_URL,
    }
    subject = scope.get("job") or scope.get("entity")
    return render(
        request,
        "playback/page.html",
        {"config": config, "scope": scope, "subject": subject},
    )
