"""Who may replay: logged-in, active members of the `ops` or `analyst` group, and superusers."""

from __future__ import annotations

from typing import Any

PLAYBACK_GROUPS = ("ops", "analyst")


def user_may_replay(user: Any) -> bool:
    """True when `user` may open playback (reads the user's groups: call it off the event loop)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return bool(user.groups.filter(name__in=PLAYBACK_GROUPS).exists())
