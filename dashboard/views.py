"""Pages of the dashboard: thin views that parse, authorise, delegate and render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard import selectors as warehouse_selectors
from dashboard.forms import SearchForm
from dashboard.selectors import DatasetTotals, JobOutcome, WarehouseAnswer
from playback import selectors
from playback.lookup import DatasetFacts, Lookup
from storage.kv.base import TrackStoreError

#: Incidents on the landing page: the worst few of each kind in each dataset (see `incidents_list`).
INCIDENTS_SHOWN = 24


@dataclass(frozen=True)
class DatasetRow:
    """One line of the datasets panel: the track store's counts and the warehouse's, either may be absent."""

    name: str
    track: DatasetFacts | None
    warehouse: DatasetTotals | None


def home(request: HttpRequest) -> HttpResponse:
    """The search page: datasets and notable incidents, or what the stores know about a valid id `q`."""
    try:
        known = selectors.datasets()
    except TrackStoreError as exc:
        return _store_unavailable(request, exc)
    form = SearchForm(request.GET, datasets=known)
    answer: Lookup | None = None
    if form.is_bound and form.is_valid():
        try:
            answer = selectors.lookup(dataset=form.cleaned_data["dataset"], query=form.cleaned_data["q"])
        except TrackStoreError as exc:
            return _store_unavailable(request, exc)
    overview: WarehouseAnswer[list[DatasetTotals]] | None = None
    outcome: WarehouseAnswer[JobOutcome | None] | None = None
    incidents: list[selectors.IncidentRow] = []
    if answer is None:
        overview = warehouse_selectors.warehouse_overview()
        incidents = selectors.incidents_list(limit=INCIDENTS_SHOWN)
    elif answer.job is not None:
        outcome = warehouse_selectors.job_outcome(dataset=answer.dataset, job=answer.job.job)
    context = {
        "form": form,
        "datasets": known,
        "dataset_rows": _dataset_rows(known, overview),
        "overview": overview,
        "lookup": answer,
        "outcome": outcome,
        "incidents": incidents,
    }
    return render(request, "dashboard/home.html", context)


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
    context = {"form": form, "datasets": [], "lookup": None, "store_error": str(exc)}
    return render(request, "dashboard/home.html", context, status=503)
