"""The landing page's "Notable incidents" panel: each incident one click from its replay at that moment."""

import json
import re
from html import unescape

import pytest
from django.urls import reverse

from playback.services import incidents_record
from tests.dashboard.conftest import ms

pytestmark = pytest.mark.django_db

T0 = ms("2026-03-14T12:00:00")


def _links(html):
    return re.findall(r'<tr data-incident="([a-z_]+)">.*?<a class="mono" href="([^"]+)"', html, re.DOTALL)


def test_landing_lists_recorded_incidents_the_warehouse_cannot_find(user_client, fake_selectors):
    incidents_record(
        dataset="prod-berlin",
        incidents=[
            {"kind": "cross_river", "ts": T0, "jobs": ["order:o123"], "entity": "courier:c17", "detour": 2.4},
            {"kind": "dry_area", "ts": T0, "jobs": [], "area": "area:a3", "zone": "z1"},
            # The warehouse finds late orders itself, on every dataset: a recorded one is not listed twice.
            {"kind": "late", "ts": T0, "jobs": ["order:o999"], "entity": "courier:c17", "late_s": 750},
        ],
    )

    html = user_client.get(reverse("home")).content.decode()

    assert "Notable incidents" in html
    assert _links(html) == [
        ("cross_river", f"/playback/?dataset=prod-berlin&amp;job=order%3Ao123&amp;t={T0}")
    ]
    assert '<span class="badge badge--incident badge--cross_river">Cross-river</span>' in html
    assert "sent across the river: 2.4× the straight line by road" in html
    assert "area:a3 in z1 ran out of bikes" in html
    assert "order:o999" not in html


def test_the_warehouse_finds_late_redispatched_jumping_and_stale_orders_in_any_dataset(
    user_client, fake_selectors, tmp_path
):
    from django.conf import settings

    from pipeline.ingest import ingest_paths
    from storage.connections import track_stores
    from tests.pipeline.conftest import job_created, jsonl_write

    events = [
        job_created("order:late", ts=T0, city="berlin", promised_ts=T0 + 600_000),
        {"type": "job_delivered", "job": "order:late", "ts": T0 + 900_000, "entity": "courier:c1"},
        job_created("order:declined", ts=T0, city="berlin"),
        {"type": "job_assigned", "job": "order:declined", "ts": T0 + 30_000, "entity": "courier:c2",
         "waybill": "waybill:w1"},
        {"type": "job_rejected", "job": "order:declined", "ts": T0 + 40_000, "entity": "courier:c2",
         "waybill": "waybill:w1"},
        {
            "type": "dispatch_round", "round": "round:r1", "ts": T0 + 60_000, "city": "berlin",
            "strategy": "greedy", "jobs": ["order:declined"],
            "candidates": [{"job": "order:declined", "entity": "courier:c3", "score": 1.0, "eta_s": 60,
                            "distance_m": 300.0,
                            "entity_pos": {"lat": 52.5, "lon": 13.4, "ts": T0 - 45_000}}],
            "assignments": [{"job": "order:declined", "entity": "courier:c3"}],
        },
    ]  # fmt: skip
    fixes = tmp_path / "gps.csv"
    rows = ["entity,ts,lat,lon,city"]
    for i in range(10):
        lat = 52.5 + i * 1e-5 + (0.01 if i == 5 else 0.0)  # one fix a kilometre off, for a second
        rows.append(f"courier:c4,{T0 + i * 1000},{lat:.7f},13.4,berlin")
    fixes.write_text("\n".join(rows) + "\n")
    ingest_paths(
        [jsonl_write(tmp_path / "events.jsonl", events), fixes],
        dataset="prod-berlin",
        track_store=track_stores["default"],
        warehouse_root=settings.WAREHOUSE_ROOT,
        quarantine_dir=tmp_path / "q",
    )

    html = user_client.get(reverse("home")).content.decode()
    links = dict(_links(html))

    assert links["late"] == "/playback/?dataset=prod-berlin&amp;job=order%3Alate&amp;t=" + str(T0 + 900_000)
    assert links["redispatched"].startswith("/playback/?dataset=prod-berlin&amp;job=order%3Adeclined")
    assert links["stale_fix"].startswith("/playback/?dataset=prod-berlin&amp;job=order%3Adeclined")
    assert links["gps_jump"].startswith("/playback/?dataset=prod-berlin&amp;entity=courier%3Ac4")
    assert "late by 5 min, delivered by courier:c1" in html
    assert "dispatched on a 2 min old fix of courier:c3 for order:declined" in html
    assert re.search(r"GPS of courier:c4 jumped 1,1\d\d m", html)
    assert "answered by duckdb in" in html


def test_one_click_on_an_incident_opens_its_replay_at_that_moment(user_client, fake_selectors):
    incidents_record(
        dataset="prod-berlin",
        incidents=[{"kind": "cross_river", "ts": T0, "jobs": ["order:o123"], "entity": "courier:c17"}],
    )
    landing = user_client.get(reverse("home")).content.decode()
    [(_, href)] = _links(landing)

    response = user_client.get(unescape(href))

    html = response.content.decode()
    assert response.status_code == 200
    found = re.search(r'<script id="playback-config" type="application/json">(.*?)</script>', html)
    assert found is not None
    config = json.loads(found.group(1))
    assert config["scope"] == {"kind": "job", "dataset": "prod-berlin", "job": "order:o123"}
    assert config["t"] == T0
    assert config["wsUrl"].endswith("/ws/playback/")


def test_landing_without_incidents_says_how_to_get_some(user_client, fake_selectors):
    html = user_client.get(reverse("home")).content.decode()

    assert "Notable incidents" in html
    assert "No incidents found yet." in html
    assert "make demo" in html
    assert _links(html) == []
