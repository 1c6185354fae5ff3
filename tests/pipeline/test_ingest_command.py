"""`manage.py ingest`: the printed summary table, quarantine paths, and errors."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from pipeline import ingest as ingest_module
from pipeline import services as services_module
from tests.pipeline.conftest import job_created, jsonl_write


@pytest.fixture
def command_stores(monkeypatch: pytest.MonkeyPatch, stores: dict[str, Any]) -> dict[str, Any]:
    # The command takes its stores from settings; point it at this test's stores instead.
    def logs_ingest(*, paths: Any, **options: Any) -> Any:
        return ingest_module.ingest_paths(paths, **stores, **options)

    monkeypatch.setattr(services_module, "logs_ingest", logs_ingest)
    return stores


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("ingest", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_an_aligned_table_per_file_and_a_total(
    tmp_path: Path, command_stores: Any
) -> None:
    events = jsonl_write(tmp_path / "events.jsonl", [job_created("order:1"), job_created("order:2"), "{", ""])
    fixes = tmp_path / "fixes.csv"
    fixes.write_text("entity,ts,lat,lon\ncourier:1,1700000000000,1,2\ncourier:1,1700000000000,1,2\n")
    output = run(str(events), str(fixes), "--dataset", "prod", "--no-progress")
    lines = output.splitlines()
    assert lines[0].split() == ["file", "kind", "read", "stored", "duplicate", "quarantined"]
    assert lines[1].split() == [str(events), "events", "3", "2", "0", "1"]
    assert lines[2].split() == [str(fixes), "gps", "2", "1", "1", "0"]
    assert lines[3].split() == ["total", "5", "3", "1", "1"]
    assert len({len(line) for line in lines[:4]}) == 1  # numbers right-aligned in equal-width columns
    quarantine = command_stores["quarantine_dir"] / "prod" / "events.jsonl.quarantine.jsonl"
    assert lines[4] == f"quarantined 1 row(s) of events.jsonl: {quarantine}"
    assert quarantine.exists()


def test_a_missing_file_is_a_command_error(tmp_path: Path, command_stores: Any) -> None:
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "nope.parquet"), "--no-progress")


def test_an_unknown_format_option_is_refused(tmp_path: Path, command_stores: Any) -> None:
    path = jsonl_write(tmp_path / "e.jsonl", [job_created("order:1")])
    with pytest.raises(CommandError):
        run(str(path), "--format", "xml")


def test_an_unreachable_warehouse_is_a_warning_after_a_finished_load(
    tmp_path: Path, command_stores: Any
) -> None:
    path = jsonl_write(tmp_path / "e.jsonl", [job_created("order:1")])
    presto = {
        "default": {
            "BACKEND": "storage.warehouse.presto.PrestoWarehouse",
            "OPTIONS": {
                "host": "127.0.0.1",
                "port": 9,
                "user": "t",
                "catalog": "hive",
                "schema": "d",
                "attempts": 1,
            },
        }
    }
    err = io.StringIO()
    with override_settings(WAREHOUSES=presto):
        call_command("ingest", str(path), "--no-progress", stdout=io.StringIO(), stderr=err)
    assert "could not register the new partitions" in err.getvalue()
    assert "check WAREHOUSE" in err.getvalue()
