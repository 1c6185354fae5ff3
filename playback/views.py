"""Playback's HTTP views: thin — parse, authorise, delegate, render."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from playback import selectors
from playback.access import user_may_replay
from storage.kv.base import TrackStoreError


@require_GET
def roads(request: HttpRequest, dataset: str) -> HttpResponse:
    """The dataset's road graph (its city document, docs/protocol.md) as JSON; 404 when it has none."""
    if not user_may_replay(request.user):
        raise PermissionDenied("playback needs the ops or analyst role")
    try:
        document = selectors.city_document(dataset=dataset)
    except TrackStoreError as exc:
        message = f"the track store could not be read: {exc}"
        return HttpResponse(message, status=503, content_type="text/plain")
    if document is None:
        raise Http404(f"dataset {dataset} has no road graph")
    response = HttpResponse(document, content_type="application/json")
    response["Cache-Control"] = "private, max-age=300"
    return response
