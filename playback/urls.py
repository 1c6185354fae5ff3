"""Playback's URLs, included under `playback/` by dashboard/urls.py."""

from django.urls import path

from playback import views

app_name = "playback"

urlpatterns = [
    path("roads/<str:dataset>.json", views.roads, name="roads"),
]
