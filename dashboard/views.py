"""Pages of the dashboard: thin views that parse, authorise, delegate and render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.forms import SearchForm
from playback import selectors
from playback.lookup import Lookup
from storage.kv.base import TrackStoreError


def home(request: HttpRequest) -> HttpResponse:
    """The search page: the dataset list, and what the stores know about `q` once it is a valid id."""
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
    context = {"form": form, "datasets": known, "lookup": answer}
    return render(request, "dashboard/home.html", context)


def _store_unavailable(request: HttpRequest, exc: TrackStoreError) -> HttpResponse:
    # The page still renders (header, search box) so the user sees what failed rather than a bare 500.
    form = SearchForm(request.GET, datasets=[])
    context = {"form": form, "datasets": [], "lookup": None, "store_error": str(exc)}
    return render(request, "dashboard/home.html", context, status=503)
