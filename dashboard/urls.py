"""URL routes."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard import views
from playback import pages

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("playback/", pages.playback_page, name="playback"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("playback/", include("playback.urls")),
]
