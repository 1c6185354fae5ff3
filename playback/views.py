"""Playback's HTTP views: thin — parse, authorise, delegate, render."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from dashboard.roles import replay_required
from playback import selectors
from storage.kv.base import TrackStoreError


@require_GET
@replay_required
def roads(request: HttpRequest, dataset: str) -> HttpResponse:
    """The dataset's road graph (its city document, docs/protocol.md) as JSON; 404 when it has none."""
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
