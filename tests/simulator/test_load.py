import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

# --load records each run's incidents in Django's database.
pytestmark = pytest.mark.django_db


def test_load_sends_every_dataset_through_the_ingest_pipeline_once(tmp_path, configured_track_store):
    args = [
        "--strategies",
        "nearest,hungarian",
        "--hours",
        "0.25",
        "--couriers",
        "15",
        "--out",
        str(tmp_path / "sim"),
        "--load",
        "--no-progress",
    ]
    with override_settings(WAREHOUSE_ROOT=tmp_path / "warehouse", QUARANTINE_DIR=tmp_path / "quarantine"):
        first, second = StringIO(), StringIO()
        call_command("simulate", *args, stdout=first)
        call_command("simulate", *args, stdout=second)
    loaded = re.findall(
        r"loaded (\S+): read (\d+), stored (\d+), duplicates (\d+), quarantined (\d+)", first.getvalue()
    )
    assert [name for name, *_ in loaded] == ["sim-food-delivery-nearest-1", "sim-food-delivery-hungarian-1"]
    for _, read, stored, _, quarantined in loaded:
        assert int(read) > 0
        assert int(stored) == int(read)
        assert int(quarantined) == 0
    again = re.findall(r"stored (\d+), duplicates (\d+)", second.getvalue())
    assert all(int(stored) == 0 and int(dups) > 0 for stored, dups in again)
    assert (tmp_path / "warehouse" / "rounds").exists()
