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


def test_landing_lists_incidents_with_badges_descriptions_and_replay_links(user_client, fake_selectors):
    incidents_record(
        dataset="prod-berlin",
        incidents=[
            {"kind": "late", "ts": T0, "jobs": ["order:o123"], "entity": "courier:c17", "late_s": 750},
            {
                "kind": "redispatched",
                "ts": T0,
                "jobs": ["order:o125"],
                "entity": "courier:c4",
                "rejections": 2,
            },
            {"kind": "gps_jump", "ts": T0, "jobs": [], "entity": "courier:c17", "jump_m": 420},
        ],
    )

    html = user_client.get(reverse("home")).content.decode()

    assert "Notable incidents" in html
    assert _links(html) == [
        ("late", f"/playback/?dataset=prod-berlin&amp;job=order%3Ao123&amp;t={T0}"),
        ("redispatched", f"/playback/?dataset=prod-berlin&amp;job=order%3Ao125&amp;t={T0}"),
        ("gps_jump", f"/playback/?dataset=prod-berlin&amp;entity=courier%3Ac17&amp;t={T0}"),
    ]
    assert '<span class="badge badge--incident badge--redispatched">Re-dispatched</span>' in html
    assert "late by 12 min, delivered by courier:c17" in html
    assert "declined twice, taken on the 3rd offer by courier:c4" in html
    assert "No incidents recorded yet." not in html


def test_one_click_on_an_incident_opens_its_replay_at_that_moment(user_client, fake_selectors):
    incidents_record(
        dataset="prod-berlin",
        incidents=[{"kind": "late", "ts": T0, "jobs": ["order:o123"], "entity": "courier:c17", "late_s": 90}],
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
    assert "No incidents recorded yet." in html
    assert "make demo" in html
    assert _links(html) == []
