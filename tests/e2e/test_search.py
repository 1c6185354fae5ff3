"""Log in and search an order: one dataset holds it, so its replay opens, in a real Chromium."""

from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from storage.connections import track_stores
from storage.tracks import PointBatch, StoredEvent

DATASET = "e2e-city"
START = 1_773_489_600_000  # 2026-03-14T12:00:00Z
POINTS = 120


def dataset_write() -> None:
    store = track_stores["default"]
    seconds = np.arange(POINTS, dtype=np.int64)
    store.points_write(
        dataset=DATASET,
        batch=PointBatch(
            entity_names=("courier:c17",),
            entity_codes=np.zeros(POINTS, dtype=np.int32),
            ts=START + seconds * 1000,
            lat=(52.52 + seconds * 1e-5).astype(np.float64),
            lon=(13.40 + seconds * 1e-5).astype(np.float64),
        ),
    )
    bodies: list[dict[str, Any]] = [
        {
            "type": "job_created", "id": "ev-1", "ts": START, "job": "order:o123", "city": "berlin",
            "kind": "delivery", "pickup": {"lat": 52.52, "lon": 13.40},
            "dropoff": {"lat": 52.53, "lon": 13.41},
        },
        {
            "type": "dispatch_round", "id": "ev-2", "ts": START + 30_000, "round": "round:r1",
            "city": "berlin", "strategy": "greedy_eta", "jobs": ["order:o123"],
            "candidates": [{"job": "order:o123", "entity": "courier:c17", "score": 0.9, "eta_s": 240,
                            "distance_m": 800.0, "features": {}}],
            "assignments": [{"job": "order:o123", "entity": "courier:c17"}],
        },
        {"type": "job_assigned", "id": "ev-3", "ts": START + 31_000, "job": "order:o123",
         "entity": "courier:c17", "round": "round:r1", "waybill": "w1"},
        {"type": "job_delivered", "id": "ev-4", "ts": START + 119_000, "job": "order:o123",
         "entity": "courier:c17", "waybill": "w1"},
    ]  # fmt: skip
    store.events_write(
        dataset=DATASET,
        events=[StoredEvent(id=b["id"], type=b["type"], ts=b["ts"], body=b) for b in bodies],
    )


@pytest.mark.e2e
def test_login_and_search_an_order_opens_its_replay(
    page: Page, live_server, settings, tmp_path, django_user_model
):
    from django.contrib.auth.models import Group

    stores = copy.deepcopy(settings.TRACK_STORES)
    stores["default"]["OPTIONS"]["path"] = str(tmp_path / "tracks")
    settings.TRACK_STORES = stores
    dataset_write()
    user = django_user_model.objects.create_user(username="ops-e2e", password="a long e2e password")
    # live_server's transactional database is flushed after each test, taking the migration's groups with it,
    # so a test that runs after another e2e test must make the group it needs.
    user.groups.add(Group.objects.get_or_create(name="ops")[0])

    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill("ops-e2e")
    page.get_by_label("Password").fill("a long e2e password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()

    search_box = page.get_by_label("Order, courier or bike id")
    search_box.blur()
    expect(search_box).not_to_be_focused()
    page.keyboard.press("/")
    expect(search_box).to_be_focused()
    search_box.fill("o123")
    search_box.press("Enter")

    expect(page).to_have_url(re.compile(r"/playback/\?dataset=e2e-city&job=order%3Ao123"))
    expect(page.get_by_role("heading", name="order:o123")).to_be_visible()
    assert script_errors == []
