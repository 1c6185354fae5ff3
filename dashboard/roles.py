"""Who may do what: the `ops` and `analyst` groups the first migration creates, checked in one place.

Playback (pages and sockets) needs `ops` or `analyst`; experiment pages need `analyst` to work with and
let `ops` read. Superusers may do everything.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

OPS = "ops"
ANALYST = "analyst"
PLAYBACK_GROUPS = frozenset({OPS, ANALYST})

View = TypeVar("View", bound=Callable[..., HttpResponse])


def user_groups(user: Any) -> frozenset[str]:
    """The role groups of `user` (empty for an anonymous or inactive user)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return frozenset()
    cached = getattr(user, "_dispatchscope_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._dispatchscope_groups = cached
    return frozenset(cached)


def user_can_replay(user: Any) -> bool:
    """True when `user` may open playback pages and sockets."""
    return bool(getattr(user, "is_superuser", False)) or bool(user_groups(user) & PLAYBACK_GROUPS)


def user_can_read_experiments(user: Any) -> bool:
    """True when `user` may read experiment pages (`analyst` or `ops`)."""
    return user_can_replay(user)


def user_can_edit_experiments(user: Any) -> bool:
    """True when `user` may create and change experiments and metrics (`analyst`)."""
    return bool(getattr(user, "is_superuser", False)) or ANALYST in user_groups(user)


def _refused(request: HttpRequest, needed: str) -> HttpResponse:
    return render(request, "dashboard/forbidden.html", {"needed": needed}, status=403)


def replay_required(view: View) -> View:
    """A view only users who may replay reach; others get a 403 page saying which role they need."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_can_replay(request.user):
            return _refused(request, "the ops or analyst role")
        return view(request, *args, **kwargs)

    return wrapped  # type: ignore[return-value]
