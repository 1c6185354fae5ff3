"""The home page's warehouse panels: real DuckDB and Presto-protocol warehouses, and a failing one.

The track-store half of the page is the conftest's fake; the warehouse half reads Parquet written by the
pipeline's writer, through whichever backend WAREHOUSES names.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa
import pytest
from django.test import Client, override_settings
from django.urls import reverse

from dashboard.selectors import warehouse_overview
from storage.warehouse.parquet import write_fact_table
from storage.warehouse.schema import TABLE_SCHEMAS
from tests.dashboard.conftest import ms
from tests.servers.presto_server import PrestoTestServer, presto_server

pytestmark = pytest.mark.django_db

DATASET = "prod-berlin"
JOB = "order:o123"


def _job_event(type: str, clock: str, n: int = 0, **fields: Any) -> dict[str, Any]:
    return {
        "dataset": DATASET,
        "city": "berlin",
        "event_id": f"{JOB}/{type}/{n}",
        "type": type,
        "job": JOB,
        "ts": ms(f"2026-03-14T{clock}"),
        **fields,
    }


def _parquet_write(root: Path, table: str, rows: list[dict[str, Any]]) -> None:
    schema = TABLE_SCHEMAS[table]
    full = pa.schema([*schema, pa.field("dataset", pa.string()), pa.field("city", pa.string())])
    write_fact_table(root=root, table=table, rows=pa.Table.from_pylist(rows, schema=full))


def warehouse_write(root: Path) -> None:
    """order:o123 in prod-berlin: declined once, re-dispatched as w2, delivered 1 min 30 s late."""
    _parquet_write(
        root,
        "job_events",
        [
            _job_event(
                "job_created",
                "12:00:00",
                kind="delivery",
                zone="mitte",
                pickup_lat=52.52,
                pickup_lon=13.405,
                dropoff_lat=52.53,
                dropoff_lon=13.42,
                ready_ts=ms("2026-03-14T12:10:00"),
                promised_ts=ms("2026-03-14T12:40:00"),
            ),
            _job_event("job_assigned", "12:00:31", entity="courier:c4", round="round:r9001", waybill="w1"),
            _job_event("job_rejected", "12:01:10", entity="courier:c4", waybill="w1", reason="too_far"),
            _job_event(
                "job_assigned", "12:02:00", n=1, entity="courier:c17", round="round:r9003", waybill="w2"
            ),
            _job_event("job_picked_up", "12:15:00", entity="courier:c17", waybill="w2"),
            _job_event("job_delivered", "12:41:30", entity="courier:c17", waybill="w2"),
        ],
    )
    _parquet_write(
        root,
        "rounds",
        [
            {
                "dataset": DATASET,
                "city": "berlin",
                "round": name,
                "ts": ms(f"2026-03-14T{clock}"),
                "strategy": "greedy_eta",
                "n_jobs": 1,
                "n_candidates": 2,
                "n_assignments": 1,
                "n_postponed": 0,
                "n_excluded": 0,
            }
            for name, clock in (("round:r9001", "12:00:30"), ("round:r9003", "12:02:00"))
        ],
    )


def duckdb_config(root: Path) -> dict[str, Any]:
    return {
        "default": {"BACKEND": "storage.warehouse.duckdb.DuckDBWarehouse", "OPTIONS": {"root": str(root)}}
    }


def presto_config(server: PrestoTestServer, **extra: Any) -> dict[str, Any]:
    options = {
        "host": server.host,
        "port": server.port,
        "user": "tester",
        "catalog": "hive",
        "schema": "dispatch",
        **extra,
    }
    return {"default": {"BACKEND": "storage.warehouse.presto.PrestoWarehouse", "OPTIONS": options}}


@pytest.fixture
def warehouse_root(tmp_path: Path) -> Path:
    root = tmp_path / "warehouse"
    warehouse_write(root)
    return root


@pytest.fixture
def duckdb_warehouse(warehouse_root: Path) -> Iterator[Path]:
    with override_settings(WAREHOUSES=duckdb_config(warehouse_root)):
        yield warehouse_root


@pytest.fixture
def presto(warehouse_root: Path) -> Iterator[PrestoTestServer]:
    with presto_server(warehouse_root) as server, override_settings(WAREHOUSES=presto_config(server)):
        yield server


def search(client: Client, **params: str) -> str:
    response = client.get(f"{reverse('home')}?{urlencode(params)}")
    assert response.status_code == 200
    return str(response.content.decode())


def text(html: str) -> str:
    """Visible text with tags dropped and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_search_finds_a_job_only_the_warehouse_holds(user_client, fake_selectors, duckdb_warehouse):
    fake_selectors.known = {}

    html = search(user_client, q=JOB)
    words = text(html)

    assert 'data-result-count="1"' in html
    assert "prod-berlin" in words
    assert "warehouse only" in words
    assert "41 min 30 s" in words  # created 12:00:00, last event 12:41:30
    assert 'href="/playback/' not in html


def test_search_marks_a_job_both_stores_hold_as_replayable(user_client, fake_selectors, duckdb_warehouse):
    fake_selectors.known = {JOB: {DATASET}}

    response = user_client.get(f"{reverse('home')}?{urlencode({'q': JOB})}")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('playback')}?dataset={DATASET}&job=order%3Ao123"


def test_landing_adds_the_warehouse_counts_to_each_dataset(user_client, fake_selectors, duckdb_warehouse):
    html = search(user_client)

    row = html[html.index('<tr data-dataset="prod-berlin">') :]
    row = row[: row.index("</tr>")]
    # Track store points and events, then warehouse jobs, events, rounds, candidates.
    cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', row)
    assert cells == ["1,234,567", "89,012", "1", "6", "2", "0"]
    other = html[html.index('<tr data-dataset="sim-rush-greedy-7">') :]
    assert "52,000" in other[: other.index("</tr>")]
    assert re.search(r"answered by duckdb in \d+\.\d ms", html)


def test_landing_lists_a_dataset_only_the_warehouse_holds(user_client, fake_selectors, duckdb_warehouse):
    fake_selectors.datasets = []

    html = search(user_client)

    assert "No data loaded yet." not in html
    assert '<tr data-dataset="prod-berlin">' in html
    assert '<span class="mono" title="Only in the warehouse' in html


def test_presto_answers_the_search_and_the_landing_counts(user_client, fake_selectors, presto):
    fake_selectors.known = {}
    assert "warehouse only" in search(user_client, q=JOB)
    landing = search(user_client)
    assert "answered by presto in" in landing
    assert any("FROM job_events" in r.sql for r in presto.received)


def test_presto_error_on_the_landing_keeps_the_track_store_counts(user_client, fake_selectors, presto):
    presto.connection.execute("DROP VIEW rounds")

    html = search(user_client)

    assert "Warehouse unavailable:" in html
    assert "rounds&#x27; does not exist (TABLE_NOT_FOUND)" in html
    assert "1,234,567" in html
    assert "Traceback" not in html


def test_unreachable_coordinator_is_a_message_not_a_500(user_client, fake_selectors):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = {"host": "127.0.0.1", "port": port, "catalog": "hive", "schema": "dispatch", "attempts": 1}
    config = {"default": {"BACKEND": "storage.warehouse.presto.PrestoWarehouse", "OPTIONS": options}}

    with override_settings(WAREHOUSES=config):
        html = search(user_client, q=JOB)

    assert "The warehouse (presto) could not answer." in text(html)
    assert f"Presto coordinator at 127.0.0.1:{port} is unreachable" in html
    assert "check WAREHOUSE" in html
    assert "Traceback" not in html
    # The track store still answered: the order is listed in both datasets it knows.
    assert 'data-result-count="2"' in html


def test_selectors_turn_sql_nulls_into_none(duckdb_warehouse):
    totals = warehouse_overview().value
    assert totals is not None
    assert [(t.dataset, t.jobs, t.events, t.rounds, t.candidates) for t in totals] == [(DATASET, 1, 6, 2, 0)]
