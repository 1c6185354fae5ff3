"""Pages of the dashboard: thin views that parse, authorise, delegate and render."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The home page with its search box."""
    return render(request, "dashboard/home.html", {})
