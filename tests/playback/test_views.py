"""GET /playback/roads/<dataset>.json: the dataset's road graph for ops and analysts, 404 without one."""

import orjson
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.playback.scenario import DATASET, ROADS, scenario_write

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(django_user_model):
    user = django_user_model.objects.create_user(username="a1", password="pw")
    user.groups.add(Group.objects.get_or_create(name="analyst")[0])
    return user


def test_the_url_is_the_one_manifests_carry():
    assert reverse("playback:roads", kwargs={"dataset": "sim-a.b"}) == "/playback/roads/sim-a.b.json"


def test_the_road_graph_is_served_as_stored(client, analyst, configured_track_store):
    scenario_write(configured_track_store)
    client.force_login(analyst)
    response = client.get(f"/playback/roads/{DATASET}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert orjson.loads(response.content) == ROADS
    assert response.content == configured_track_store.city_get(dataset=DATASET)
    assert client.post(f"/playback/roads/{DATASET}.json").status_code == 405


def test_a_dataset_without_roads_or_with_a_bad_name_is_404(client, analyst, configured_track_store):
    scenario_write(configured_track_store, roads=False)
    client.force_login(analyst)
    assert client.get(f"/playback/roads/{DATASET}.json").status_code == 404
    assert client.get("/playback/roads/.hidden.json").status_code == 404


def test_login_and_a_playback_role_are_required(client, django_user_model, configured_track_store):
    scenario_write(configured_track_store)
    anonymous = client.get(f"/playback/roads/{DATASET}.json")
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    client.force_login(django_user_model.objects.create_user(username="x", password="pw"))
    assert client.get(f"/playback/roads/{DATASET}.json").status_code == 403
