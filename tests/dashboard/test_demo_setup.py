"""`manage.py demo_setup`: a simulated day loaded once, its incidents recorded, a login and a banner."""

import io
import re
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from playback import selectors
from playback.models import Incident

#: A small day so the test takes seconds; the seed is one whose manifest has late and re-dispatched orders.
SMALL = ("--couriers", "30", "--hours", "0.5", "--seed", "3")
DATASETS = {"demo": "hungarian", "demo-greedy": "greedy", "demo-nearest": "nearest"}


def _run(out_dir, *args):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("demo_setup", "--out", str(out_dir), *SMALL, *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def _warehouse_rows():
    return sum(pq.read_metadata(path).num_rows for path in Path(settings.WAREHOUSE_ROOT).rglob("*.parquet"))


def _line(pattern, text):
    found = re.search(pattern, text, re.MULTILINE)
    assert found is not None, f"no line matching {pattern!r} in:\n{text}"
    return found.group(1)


def _example(text, what):
    return _line(rf"^\s+({what}:\S+)\s", text)


def _manifests(out_dir):
    """Each demo dataset's incident manifest, as the simulator wrote it."""
    [folder] = [p for p in out_dir.iterdir() if p.is_dir()]
    return {
        name: orjson.loads((folder / f"sim-food-delivery-{strategy}-3" / "incidents.json").read_bytes())
        for name, strategy in DATASETS.items()
    }


@pytest.mark.django_db
def test_demo_setup_loads_the_simulated_day_once_and_its_incidents_are_searchable(tmp_path, client):
    out_dir = tmp_path / "demo"
    first, first_err = _run(out_dir)

    assert first_err == ""
    assert "http://127.0.0.1:8000" in first
    assert re.search(r"^demo data ready in \d+\.\d s", first, re.MULTILINE)
    password = _line(r"^\s+password\s+(\S+)$", first)
    assert re.search(r"^\s+login\s+demo$", first, re.MULTILINE)
    assert client.login(username="demo", password=password)
    user = get_user_model().objects.get(username="demo")
    assert set(user.groups.values_list("name", flat=True)) == {"ops", "analyst"}

    # Every strategy's run is its own dataset; the Hungarian one is `demo`, the one the search box preselects.
    assert [d.name for d in selectors.datasets()] == list(DATASETS)
    assert all(d.points > 0 and d.events > 0 for d in selectors.datasets())

    # Every incident of every manifest is recorded, and the stores hold the orders and couriers it names.
    manifests = _manifests(out_dir)
    for name, manifest in manifests.items():
        assert Incident.objects.filter(dataset=name).count() == len(manifest["incidents"]) > 0
    rows = selectors.incidents_list(limit=10_000)
    assert {r.kind for r in rows} >= {"late", "redispatched", "gps_jump"}
    for row in rows:
        assert row.query is not None
        found = selectors.lookup(dataset=row.dataset, query=row.query)
        assert found.kind == ("job" if row.jobs else "entity"), row

    # The banner's examples are real: a re-dispatched order, a late one, and the courier who took the first.
    order, courier = _example(first, "order"), _example(first, "courier")
    assert "declined" in first
    assert "late by" in first
    answer = selectors.lookup(dataset="demo", query=order)
    assert answer.job is not None
    assert courier in answer.job.entities
    assert any(e.type == "job_rejected" for e in answer.job.events)

    stored_rows = _warehouse_rows()
    incidents = Incident.objects.count()
    order_events = len(answer.job.events)
    folder_files = {p: p.stat().st_mtime_ns for p in out_dir.rglob("*") if p.is_file()}

    second, _ = _run(out_dir)

    assert "reusing the demo day" in second
    assert {p: p.stat().st_mtime_ns for p in out_dir.rglob("*") if p.is_file()} == folder_files
    # three runs × (events, GPS, road graph)
    assert re.findall(r"stored (\S+),", second) == ["0"] * 9
    assert re.findall(r"recorded (\d+) new incident", second) == ["0"] * 3
    for name in DATASETS:
        assert f"{name} was already loaded: nothing new was stored" in second
    assert Incident.objects.count() == incidents
    assert _warehouse_rows() == stored_rows
    again = selectors.lookup(dataset="demo", query=order)
    assert again.job is not None
    assert len(again.job.events) == order_events
    # Each run issues a fresh password; the old one stops working.
    new_password = _line(r"^\s+password\s+(\S+)$", second)
    assert new_password != password
    assert not client.login(username="demo", password=password)
    assert client.login(username="demo", password=new_password)


@pytest.mark.django_db
def test_demo_setup_resets_an_existing_login_to_the_given_password(tmp_path, client):
    get_user_model().objects.create_user(username="ops-lead", password="an old password", is_active=False)
    out, _ = _run(tmp_path / "demo", "--username", "ops-lead", "--password", "replay the lunch peak")

    assert "reset the login 'ops-lead'" in out
    assert re.search(r"^\s+password\s+replay the lunch peak$", out, re.MULTILINE)
    assert client.login(username="ops-lead", password="replay the lunch peak")
    assert get_user_model().objects.filter(username="demo").count() == 0


def test_a_bad_size_stops_before_anything_is_simulated(tmp_path):
    with pytest.raises(CommandError, match="couriers"):
        _run(tmp_path / "demo", "--couriers", "0")
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
