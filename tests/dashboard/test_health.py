"""The health endpoint: every configured backend's state and latency, 503 when one does not answer."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from dashboard import health

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _by_kind(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["kind"]: row for row in body["backends"]}


def test_embedded_defaults_all_answer_without_a_login(client: Client) -> None:
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    rows = _by_kind(body)
    assert rows["track_store"]["engine"] == "lmdb"
    assert rows["warehouse"]["engine"] == "duckdb"
    assert rows["database"]["state"] == "ok"
    for row in body["backends"]:
        assert row["state"] == "ok"
        assert row["latency_ms"] >= 0
        assert "message" not in row


def test_an_unreachable_hbase_is_reported_with_its_reason_to_signed_in_users(user_client: Client) -> None:
    port = _closed_port()
    stores = {
        "default": {
            "BACKEND": "storage.kv.hbase.HBaseStore",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "prefix": "health", "transport": "framed"},
        }
    }
    with override_settings(TRACK_STORES=stores):
        anonymous = Client().get("/health/")
        assert anonymous.status_code == 503
        row = _by_kind(anonymous.json())["track_store"]
        assert (row["engine"], row["state"]) == ("hbase", "error")
        assert "message" not in row  # host names stay with signed-in users

        signed_in = user_client.get("/health/")
        assert signed_in.status_code == 503
        body = signed_in.json()
        assert body["status"] == "degraded"
        rows = _by_kind(body)
        assert f"127.0.0.1:{port}" in rows["track_store"]["message"]
        assert "TRACK_STORE" in rows["track_store"]["message"]
        assert rows["warehouse"]["state"] == "ok"  # one broken backend does not hide the others


def test_a_warehouse_root_that_is_a_file_is_an_error_naming_the_setting(
    user_client: Client, tmp_path: Path
) -> None:
    root = tmp_path / "not-a-directory"
    root.write_text("x")
    warehouses = {
        "default": {"BACKEND": "storage.warehouse.duckdb.DuckDBWarehouse", "OPTIONS": {"root": str(root)}}
    }
    with override_settings(WAREHOUSES=warehouses):
        response = user_client.get("/health/")
    assert response.status_code == 503
    row = _by_kind(response.json())["warehouse"]
    assert row["state"] == "error"
    assert "WAREHOUSE" in row["message"]


def test_a_probe_that_hangs_is_a_timeout_and_does_not_hold_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def hanging(alias: str) -> Any:
        return lambda: time.sleep(30)

    monkeypatch.setattr(health, "_warehouse_probe", hanging)
    started = time.perf_counter()
    results = health.health_check(timeout_s=0.2)
    waited = time.perf_counter() - started
    by_kind = {result.kind: result for result in results}
    assert by_kind["warehouse"].state == "timeout"
    assert by_kind["warehouse"].latency_ms is None
    assert "0.2 s" in by_kind["warehouse"].message
    assert by_kind["track_store"].state == "ok"
    assert waited < 25  # returned at its deadline, not when the hung probe finished


def test_only_get_is_allowed(client: Client) -> None:
    assert client.post("/health/").status_code == 405
