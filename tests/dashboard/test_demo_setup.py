"""`manage.py demo_setup`: a loaded sample, a working login, and a banner that says where to go."""

import io
import re

import pyarrow.parquet as pq
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from storage.connections import track_stores


@pytest.fixture
def demo_stores(settings, tmp_path):
    """Point the track store, warehouse and quarantine at this test's directory."""
    settings.TRACK_STORES = {
        "default": {
            **settings.TRACK_STORES["default"],
            "BACKEND": "storage.kv.lmdb.LMDBStore",
            "OPTIONS": {
                **settings.TRACK_STORES["default"]["OPTIONS"],
                "path": str(tmp_path / "tracks"),
                "map_size_gb": 1,
            },
        }
    }
    settings.WAREHOUSE_ROOT = tmp_path / "warehouse"
    settings.QUARANTINE_DIR = tmp_path / "quarantine"
    return tmp_path


def _run(out_dir, *args):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("demo_setup", "--out", str(out_dir), *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def _warehouse_rows(root):
    return sum(pq.read_metadata(path).num_rows for path in root.rglob("*.parquet"))


def _line(pattern, text):
    found = re.search(pattern, text, re.MULTILINE)
    assert found is not None, f"no line matching {pattern!r} in:\n{text}"
    return found.group(1)


def _example(text, what):
    return _line(rf"^\s+({what}:\S+)\s", text)


@pytest.mark.django_db
def test_demo_setup_loads_the_sample_once_and_prints_a_login_that_works(demo_stores, client):
    out_dir = demo_stores / "demo"
    first, first_err = _run(out_dir)

    assert "http://127.0.0.1:8000" in first
    assert first_err == ""
    password = _line(r"^\s+password\s+(\S+)$", first)
    assert re.search(r"^\s+login\s+demo$", first, re.MULTILINE)
    order, courier = _example(first, "order"), _example(first, "courier")
    assert "bike:b" in first
    assert client.login(username="demo", password=password)
    user = get_user_model().objects.get(username="demo")
    assert set(user.groups.values_list("name", flat=True)) == {"ops", "analyst"}

    # The example order is really loaded, with the courier the banner names among its events.
    events = track_stores["default"].job_events(dataset="demo", job=order)
    assert any(e.type == "job_delivered" and e.body.get("entity") == courier for e in events)
    stored_rows = _warehouse_rows(demo_stores / "warehouse")
    assert stored_rows > 1000
    files_before = {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()}

    second, _ = _run(out_dir)

    assert "reusing the demo sample" in second
    assert {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()} == files_before
    assert "already loaded: nothing new was stored" in second
    assert re.findall(r"stored (\S+),", second) == ["0", "0"]
    assert len(track_stores["default"].job_events(dataset="demo", job=order)) == len(events)
    assert _warehouse_rows(demo_stores / "warehouse") == stored_rows
    # Each run issues a fresh password; the old one stops working.
    new_password = _line(r"^\s+password\s+(\S+)$", second)
    assert new_password != password
    assert not client.login(username="demo", password=password)
    assert client.login(username="demo", password=new_password)


@pytest.mark.django_db
def test_demo_setup_resets_an_existing_login_to_the_given_password(demo_stores, client):
    get_user_model().objects.create_user(username="ops-lead", password="an old password", is_active=False)
    out, _ = _run(demo_stores / "demo", "--username", "ops-lead", "--password", "replay the lunch peak")

    assert "reset the login 'ops-lead'" in out
    assert re.search(r"^\s+password\s+replay the lunch peak$", out, re.MULTILINE)
    assert client.login(username="ops-lead", password="replay the lunch peak")
    assert get_user_model().objects.filter(username="demo").count() == 0
