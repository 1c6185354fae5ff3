"""Recording incident manifests and listing them: idempotent, worst of each kind first."""

import re
from io import StringIO
from typing import Any

import orjson
import pytest
from django.core.management import call_command

from playback import selectors
from playback.models import Incident
from playback.services import IncidentError, incidents_record

pytestmark = pytest.mark.django_db

T0 = 1_709_600_000_000

MANIFEST = [
    {"kind": "late", "ts": T0 + 900_000, "jobs": ["order:12"], "entity": "courier:5", "late_s": 724},
    {"kind": "late", "ts": T0 + 600_000, "jobs": ["order:3"], "entity": "courier:9", "late_s": 95},
    {"kind": "redispatched", "ts": T0, "jobs": ["order:7"], "entity": "courier:2", "rejections": 2},
    {"kind": "redispatched", "ts": T0 + 5, "jobs": ["order:8"], "entity": None, "rejections": 1},
    {
        "kind": "cross_river",
        "ts": T0 + 60_000,
        "jobs": ["order:21"],
        "entity": "courier:4",
        "detour": 3.42,
        "late": True,
    },
    {"kind": "gps_jump", "ts": T0 + 70_000, "jobs": ["order:30"], "entity": "courier:6", "jump_m": 1450},
    {"kind": "gps_jump", "ts": T0 + 80_000, "jobs": [], "entity": "courier:8", "jump_m": 130},
]


def _descriptions():
    return {(r.kind, r.query): r.description for r in selectors.incidents_list()}


def test_recording_a_manifest_twice_stores_each_incident_once():
    assert incidents_record(dataset="demo", incidents=MANIFEST) == len(MANIFEST)
    assert incidents_record(dataset="demo", incidents=MANIFEST) == 0
    assert incidents_record(dataset="demo", incidents=MANIFEST + MANIFEST) == 0

    assert Incident.objects.count() == len(MANIFEST)
    # The same incidents in another dataset are other incidents.
    assert incidents_record(dataset="demo-nearest", incidents=MANIFEST[:2]) == 2
    assert Incident.objects.count() == len(MANIFEST) + 2


def test_a_longer_manifest_adds_only_what_is_new():
    incidents_record(dataset="demo", incidents=MANIFEST[:3])

    assert incidents_record(dataset="demo", incidents=MANIFEST) == len(MANIFEST) - 3
    assert Incident.objects.count() == len(MANIFEST)


def test_descriptions_say_what_went_wrong_and_link_the_job_or_the_courier():
    incidents_record(dataset="demo", incidents=MANIFEST)

    assert _descriptions() == {
        ("late", "order:12"): "late by 12 min, delivered by courier:5",
        ("late", "order:3"): "late by 2 min, delivered by courier:9",
        ("redispatched", "order:7"): "declined twice, taken on the 3rd offer by courier:2",
        ("redispatched", "order:8"): "declined once, never taken",
        ("cross_river", "order:21"): "sent across the river: 3.4× the straight line by road, delivered late",
        ("gps_jump", "order:30"): "GPS of courier:6 jumped 1,450 m while carrying order:30",
        # A jump with no order in hand links the courier itself.
        ("gps_jump", "courier:8"): "GPS of courier:8 jumped 130 m",
    }


def test_list_gives_the_worst_of_every_kind_in_every_dataset_first():
    incidents_record(dataset="demo", incidents=MANIFEST)
    incidents_record(dataset="demo-greedy", incidents=MANIFEST[:1])

    rows = selectors.incidents_list()

    assert [(r.rank, r.dataset, r.kind, r.query) for r in rows] == [
        (0, "demo", "late", "order:12"),
        (0, "demo", "redispatched", "order:7"),
        (0, "demo", "cross_river", "order:21"),
        (0, "demo", "gps_jump", "order:30"),
        (0, "demo-greedy", "late", "order:12"),
        (1, "demo", "late", "order:3"),
        (1, "demo", "redispatched", "order:8"),
        (1, "demo", "gps_jump", "courier:8"),
    ]
    assert [r.label for r in rows[:4]] == ["Late", "Re-dispatched", "Cross-river", "GPS jump"]
    assert [r.query for r in selectors.incidents_list(limit=2)] == ["order:12", "order:7"]
    assert selectors.incidents_list(limit=0) == []


def test_a_malformed_item_stores_nothing_and_says_what_is_wrong():
    bad: list[dict[str, Any]] = [*MANIFEST[:2], {"kind": "late", "ts": "yesterday", "jobs": ["order:1"]}]

    with pytest.raises(IncidentError, match="integer ts"):
        incidents_record(dataset="demo", incidents=bad)
    with pytest.raises(IncidentError, match="kind"):
        incidents_record(dataset="demo", incidents=[{"ts": T0, "jobs": []}])
    assert Incident.objects.count() == 0


def test_simulate_load_records_every_runs_manifest_once(tmp_path):
    out = tmp_path / "sim"
    args = ["--strategies", "nearest,hungarian", "--hours", "0.5", "--couriers", "20", "--seed", "3"]
    args += ["--out", str(out), "--load", "--no-progress"]
    first, second = StringIO(), StringIO()

    call_command("simulate", *args, stdout=first)
    stored = {
        name: Incident.objects.filter(dataset=name).count()
        for name in ("sim-food-delivery-nearest-3", "sim-food-delivery-hungarian-3")
    }
    call_command("simulate", *args, stdout=second)

    for name, n in stored.items():
        manifest = orjson.loads((out / name / "incidents.json").read_bytes())
        assert n == len(manifest["incidents"]) > 0
        assert f"recorded {name}: {n} new incidents ({n} in the manifest)" in first.getvalue()
        assert f"recorded {name}: 0 new incidents ({n} in the manifest)" in second.getvalue()
    assert Incident.objects.count() == sum(stored.values())
    assert re.findall(r"recorded \S+: (\d+) new", second.getvalue()) == ["0", "0"]
