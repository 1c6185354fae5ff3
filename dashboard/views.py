"""Pages of the dashboard: thin views that parse, authorise, delegate and render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from dashboard import selectors as warehouse_selectors
from dashboard.forms import SearchForm
from dashboard.health import health_check
from dashboard.roles import replay_required
from dashboard.search import QueryError, SearchAnswer, SearchHit, search_answer
from dashboard.selectors import DatasetTotals, WarehouseAnswer
from playback import selectors
from playback.lookup import DatasetFacts
from storage.kv.base import TrackStoreError

#: Incidents on the landing page: the worst few of each kind in each dataset (see `incidents_list`).
INCIDENTS_SHOWN = 24


@dataclass(frozen=True)
class DatasetRow:
    """One line of the datasets panel: the track store's counts and the warehouse's, either may be absent."""

    name: str
    track: DatasetFacts | None
    warehouse: DatasetTotals | None


def playback_url(hit: SearchHit) -> str:
    """The playback page of a search hit."""
    key = "job" if hit.kind == "job" else "entity"
    params = {"dataset": hit.dataset, key: hit.ident}
    return f"{reverse('playback')}?{urlencode(params)}"


@replay_required
def home(request: HttpRequest) -> HttpResponse:
    """The search page: datasets and notable incidents, or every dataset that knows the id `q`.

    One hit the track store holds opens its playback directly; several are listed by group."""
    try:
        known = selectors.datasets()
    except TrackStoreError as exc:
        return _store_unavailable(request, exc)
    form = SearchForm(request.GET, datasets=known)
    answer: SearchAnswer | None = None
    if form.is_bound and form.is_valid():
        chosen = form.cleaned_data["dataset"]
        try:
            answer = search_answer(query=form.cleaned_data["q"], datasets=[chosen] if chosen else None)
        except QueryError as exc:
            form.add_error("q", str(exc))
        if answer is not None and answer.single_playable is not None and not answer.problems:
            return redirect(playback_url(answer.single_playable))
    overview: WarehouseAnswer[list[DatasetTotals]] | None = None
    found: WarehouseAnswer[list[selectors.IncidentRow]] | None = None
    incidents: list[selectors.IncidentRow] = []
    if answer is None:
        overview = warehouse_selectors.warehouse_overview()
        found = warehouse_selectors.incidents_found()
        incidents = _incidents_merge(found, selectors.incidents_list(limit=INCIDENTS_SHOWN))
    context = {
        "form": form,
        "datasets": known,
        "dataset_rows": _dataset_rows(known, overview),
        "overview": overview,
        "answer": answer,
        "incidents": incidents,
        "incidents_found": found,
    }
    return render(request, "dashboard/home.html", context)


def _incidents_merge(
    found: WarehouseAnswer[list[selectors.IncidentRow]], recorded: Sequence[selectors.IncidentRow]
) -> list[selectors.IncidentRow]:
    """The warehouse's finds on every dataset, plus the recorded kinds it cannot find (cross-river, failed
    rounds, dry areas), worst of each kind and dataset first; recorded finds stand in when it failed."""
    from_warehouse = found.value if found.value is not None else []
    kept = [r for r in recorded if r.kind not in warehouse_selectors.FOUND_KINDS or found.value is None]
    order = list(selectors.INCIDENT_LABELS)
    rows = [*from_warehouse, *kept]
    rows.sort(key=lambda r: (r.rank, r.dataset, order.index(r.kind) if r.kind in order else len(order), r.ts))
    return rows[:INCIDENTS_SHOWN]


def _dataset_rows(
    known: Sequence[DatasetFacts], overview: WarehouseAnswer[list[DatasetTotals]] | None
) -> list[DatasetRow]:
    # Datasets the warehouse holds but the track store does not (and the reverse) still get a line.
    totals = {t.dataset: t for t in (overview.value if overview and overview.value else [])}
    tracked = {facts.name: facts for facts in known}
    names = [facts.name for facts in known] + sorted(totals.keys() - tracked.keys())
    return [DatasetRow(name=name, track=tracked.get(name), warehouse=totals.get(name)) for name in names]


def _store_unavailable(request: HttpRequest, exc: TrackStoreError) -> HttpResponse:
    # The page still renders (header, search box) so the user sees what failed rather than a bare 500.
    form = SearchForm(request.GET, datasets=[])
    context = {"form": form, "datasets": [], "answer": None, "store_error": str(exc)}
    return render(request, "dashboard/home.html", context, status=503)


@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Each configured backend's state and latency as JSON; 200 when all answer, else 503.

    Open to load balancers without a login; the engines' messages (which name hosts) only to signed-in users.
    """
    results = health_check()
    healthy = all(result.state == "ok" for result in results)
    with_message = bool(request.user.is_authenticated)
    body = {
        "status": "ok" if healthy else "degraded",
        "backends": [result.as_dict(with_message=with_message) for result in results],
    }
    return JsonResponse(body, status=200 if healthy else 503)
