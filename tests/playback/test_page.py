"""The playback page: its deep link is parsed into the socket's scope, and only playback roles reach it."""

import json
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client, django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="olu", password="correct horse battery")
    user.groups.add(Group.objects.get_or_create(name="ops")[0])
    client.force_login(user)
    return client


def page(client, **params):
    return client.get(f"{reverse('playback')}?{urlencode(params)}")


def config_of(response):
    html = response.content.decode()
    found = re.search(r'<script id="playback-config" type="application/json">(.*?)</script>', html)
    assert found, "the page carries its config"
    return json.loads(found.group(1))


def test_a_deep_link_reopens_the_same_scope_moment_speed_and_follow(ops_client):
    response = page(
        ops_client,
        dataset="demo",
        job="order:o1031",
        t=1748919600000,
        speed=60,
        follow="courier:c33",
        loop="1748919600000-1748919700000",
    )

    assert response.status_code == 200
    config = config_of(response)
    assert config["scope"] == {"kind": "job", "dataset": "demo", "job": "order:o1031"}
    assert (config["t"], config["speed"], config["follow"]) == (1748919600000, 60.0, "courier:c33")
    assert config["loop"] == [1748919600000, 1748919700000]
    assert config["basemapTiles"] == ""
    html = response.content.decode()
    assert config["plotlyUrl"] == "/static/vendor/plotly/plotly.min.js"
    assert '<h1 class="mono">order:o1031</h1>' in html


def test_an_entity_window_becomes_an_entity_scope(ops_client):
    config = config_of(page(ops_client, dataset="demo", entity="courier:c33", start=1000, end=5000))
    assert config["scope"] == {
        "kind": "entity",
        "dataset": "demo",
        "entity": "courier:c33",
        "start": 1000,
        "end": 5000,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"dataset": "demo"}, "Give either an order"),
        ({"dataset": "demo", "job": "order:1", "entity": "courier:1"}, "Give either an order"),
        ({"dataset": "../x", "job": "order:1"}, "A dataset is named"),
        ({"dataset": "demo", "job": "order: 1"}, "is not an id"),
        ({"dataset": "demo", "job": "order:1", "speed": "7"}, "Speed is one of"),
        ({"dataset": "demo", "entity": "courier:1", "start": "9", "end": "3"}, "must come after its start"),
        ({"dataset": "demo", "entity": "courier:1", "start": "9"}, "both start and end"),
    ],
)
def test_an_incomplete_link_says_what_is_wrong(ops_client, params, message):
    response = page(ops_client, **params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_playback_needs_a_role(client, django_user_model):
    user = django_user_model.objects.create_user(username="bo", password="correct horse battery")
    client.force_login(user)
    response = page(client, dataset="demo", job="order:1")
    assert response.status_code == 403
    assert "the ops or analyst role" in response.content.decode()


def test_playback_needs_a_login(client):
    response = page(client, dataset="demo", job="order:1")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_preloads_every_playback_module(ops_client):
    from pathlib import Path

    html = page(ops_client, dataset="demo", job="order:1").content.decode()
    modules = sorted(p.name for p in (Path(__file__).parents[2] / "static/js/playback").glob("*.js"))
    assert modules, "the page's modules are where the template says"
    for name in modules:
        assert f'<link rel="modulepreload" href="/static/js/playback/{name}">' in html, name
