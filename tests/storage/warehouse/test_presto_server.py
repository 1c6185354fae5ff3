"""The Presto-protocol test server: what the real client libraries (and a raw HTTP client) see from it."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import prestodb
import pytest
import requests
import trino

from tests.servers.presto_server import PrestoTestServer, presto_server


@pytest.fixture(scope="module")
def server(warehouse_root: Path) -> Iterator[PrestoTestServer]:
    with presto_server(warehouse_root, page_size=100) as running:
        yield running


def _post(server: PrestoTestServer, sql: str, **headers: str) -> requests.Response:
    base = {"X-Trino-User": "tester", "X-Trino-Catalog": "hive", "X-Trino-Schema": "dispatch"}
    return requests.post(f"{server.url}/v1/statement", data=sql.encode(), headers=base | headers, timeout=10)


def _follow(server: PrestoTestServer, first: dict[str, Any]) -> list[requests.Response]:
    """Every GET of a statement's nextUri chain, in order."""
    responses = []
    next_uri = first.get("nextUri")
    while next_uri:
        response = requests.get(next_uri, timeout=10)
        responses.append(response)
        next_uri = response.json().get("nextUri")
    return responses


def _forget_probe(server: PrestoTestServer) -> None:
    # trino caches per host:port whether EXECUTE IMMEDIATE worked; a new server may reuse an old port.
    trino.dbapi.must_use_legacy_prepared_statements.cache.pop((server.host, server.port), None)


def test_a_statement_is_queued_then_paged_in_order(server: PrestoTestServer) -> None:
    first = _post(
        server, "SELECT x, x * 2 AS double_x FROM UNNEST(sequence(1, 250)) AS t(x) ORDER BY x"
    ).json()
    assert first["stats"]["state"] == "QUEUED"
    assert "data" not in first
    assert first["nextUri"].startswith(server.url)

    pages = [response.json() for response in _follow(server, first)]

    assert [len(page.get("data", [])) for page in pages] == [100, 100, 50]
    assert [page["stats"]["state"] for page in pages] == ["RUNNING", "RUNNING", "FINISHED"]
    assert "nextUri" not in pages[-1]
    assert pages[0]["columns"][0]["name"] == "x"
    # sequence() makes bigints in Presto; DuckDB's BIGINT comes back under the Presto name.
    assert [column["type"] for column in pages[0]["columns"]] == ["bigint", "bigint"]
    rows = [row for page in pages for row in page["data"]]
    assert rows == [[x, 2 * x] for x in range(1, 251)]


def test_a_page_fetched_again_returns_the_same_rows(server: PrestoTestServer) -> None:
    first = _post(server, "SELECT x FROM UNNEST(sequence(1, 150)) AS t(x) ORDER BY x").json()
    page_uri = first["nextUri"]
    once = requests.get(page_uri, timeout=10).json()
    again = requests.get(page_uri, timeout=10).json()
    assert once["data"] == again["data"] == [[x] for x in range(1, 101)]


def test_a_syntax_error_is_a_presto_error_payload(server: PrestoTestServer) -> None:
    first = _post(server, "SELEC 1").json()
    [response] = _follow(server, first)
    body = response.json()
    assert response.status_code == 200
    assert body["stats"]["state"] == "FAILED"
    assert "nextUri" not in body
    error = body["error"]
    assert error["errorName"] == "SYNTAX_ERROR"
    assert error["errorCode"] == 1
    assert error["errorType"] == "USER_ERROR"
    assert error["message"].startswith("line 1:")
    assert error["failureInfo"]["message"] == error["message"]
    assert error["failureInfo"]["type"].endswith("ParsingException")


def test_a_missing_table_is_named_with_the_session_catalog_and_schema(server: PrestoTestServer) -> None:
    [response] = _follow(server, _post(server, "SELECT * FROM no_such_table").json())
    error = response.json()["error"]
    assert error["errorName"] == "TABLE_NOT_FOUND"
    assert error["message"] == "Table 'hive.dispatch.no_such_table' does not exist"


def test_delete_cancels_a_query(server: PrestoTestServer) -> None:
    first = _post(server, "SELECT x FROM UNNEST(sequence(1, 500)) AS t(x)").json()
    page = requests.get(first["nextUri"], timeout=10).json()
    assert requests.delete(page["nextUri"], timeout=10).status_code == 204
    assert requests.get(page["nextUri"], timeout=10).status_code == 404


def test_a_statement_without_a_user_is_refused(server: PrestoTestServer) -> None:
    response = requests.post(f"{server.url}/v1/statement", data=b"SELECT 1", timeout=10)
    assert response.status_code == 400


def test_prepared_statements_travel_in_headers_as_the_coordinator_sends_them(
    server: PrestoTestServer,
) -> None:
    sql = "SELECT count(*) AS n FROM job_events WHERE job = ?"
    [prepared] = _follow(server, _post(server, f"PREPARE st_one FROM {sql}").json())
    added = prepared.headers["X-Trino-Added-Prepare"]
    assert added == f"st_one={quote_plus(sql)}"
    assert prepared.json()["updateType"] == "PREPARE"

    executed = _follow(
        server,
        _post(server, "EXECUTE st_one USING 'order:b1'", **{"X-Trino-Prepared-Statement": added}).json(),
    )
    assert executed[-1].json()["data"] == [[11]]

    unknown = _follow(server, _post(server, "EXECUTE st_one USING 'order:b1'").json())
    assert unknown[-1].json()["error"]["message"] == "Prepared statement not found: st_one"

    [deallocated] = _follow(
        server, _post(server, "DEALLOCATE PREPARE st_one", **{"X-Trino-Prepared-Statement": added}).json()
    )
    assert deallocated.headers["X-Trino-Deallocated-Prepare"] == "st_one"


def test_execute_binds_every_literal_the_clients_format(server: PrestoTestServer) -> None:
    sql = "SELECT ?, ?, ?, ?, ?, ?, ?, ?"
    header = {"X-Trino-Prepared-Statement": f"st_two={quote_plus(sql)}"}
    using = "'it''s; DROP TABLE x --', -7, DOUBLE '2.5', true, NULL, DATE '2026-03-02', ARRAY[1,2], X'00ff'"
    pages = _follow(server, _post(server, f"EXECUTE st_two USING {using}", **header).json())
    body = pages[-1].json()
    assert body["data"] == [["it's; DROP TABLE x --", -7, 2.5, True, None, "2026-03-02", [1, 2], "AP8="]]
    assert [column["type"] for column in body["columns"]][:4] == ["varchar", "integer", "double", "boolean"]


def test_a_wrong_parameter_count_is_an_error_not_a_guess(server: PrestoTestServer) -> None:
    header = {"X-Trino-Prepared-Statement": f"st_three={quote_plus('SELECT ?, ?')}"}
    body = _follow(server, _post(server, "EXECUTE st_three USING 1", **header).json())[-1].json()
    assert body["error"]["errorName"] == "INVALID_PARAMETER_USAGE"


def test_presto_client_prepares_executes_and_deallocates(server: PrestoTestServer) -> None:
    before = len(server.received)
    connection = prestodb.dbapi.connect(
        host=server.host, port=server.port, user="tester", catalog="hive", schema="dispatch"
    )
    cursor = connection.cursor()
    cursor.execute("SELECT count(*) FROM job_events WHERE dataset = ? AND job = ?", ["prod", "order:o'brien"])
    assert cursor.fetchall() == [[3]]

    prepare, execute, deallocate = server.received[before:]
    assert prepare.protocol == "presto"
    assert prepare.sql.startswith("PREPARE st_")
    assert prepare.sql.endswith("FROM SELECT count(*) FROM job_events WHERE dataset = ? AND job = ?")
    assert "brien" not in prepare.sql
    name = prepare.sql.split()[1]
    assert execute.sql == f"EXECUTE {name} USING 'prod','order:o''brien'"
    # The client sent back what the server's X-Presto-Added-Prepare told it.
    header_name, _, encoded = execute.prepared_header.partition("=")
    assert header_name == name
    assert unquote_plus(encoded) == "SELECT count(*) FROM job_events WHERE dataset = ? AND job = ?"
    assert deallocate.sql == f"DEALLOCATE PREPARE {name}"


def test_trino_client_uses_execute_immediate_when_the_server_has_it(server: PrestoTestServer) -> None:
    _forget_probe(server)
    connection = trino.dbapi.connect(
        host=server.host, port=server.port, user="tester", catalog="hive", schema="dispatch"
    )
    cursor = connection.cursor()
    before = len(server.received)
    cursor.execute("SELECT count(*) FROM job_events WHERE job = ?", ["order:o'brien"])
    assert cursor.fetchall() == [[3]]
    sent = [statement.sql for statement in server.received[before:]]
    assert sent == [
        "EXECUTE IMMEDIATE 'SELECT 1'",  # the client's one-time probe
        "EXECUTE IMMEDIATE 'SELECT count(*) FROM job_events WHERE job = ?' USING 'order:o''brien'",
    ]


def test_trino_client_falls_back_to_prepared_statements(warehouse_root: Path) -> None:
    with presto_server(warehouse_root, execute_immediate=False) as old_server:
        _forget_probe(old_server)
        try:
            connection = trino.dbapi.connect(
                host=old_server.host, port=old_server.port, user="tester", catalog="hive", schema="dispatch"
            )
            cursor = connection.cursor()
            cursor.execute("SELECT count(*) FROM job_events WHERE job = ?", ["order:b1"])
            assert cursor.fetchall() == [[11]]
            cursor.execute("SELECT 1")
            assert cursor.fetchall() == [[1]]
        finally:
            _forget_probe(old_server)
        sent = old_server.received
    assert sent[0].sql == "EXECUTE IMMEDIATE 'SELECT 1'"
    assert [statement.sql.split()[0] for statement in sent[1:]] == [
        "PREPARE",
        "EXECUTE",
        "DEALLOCATE",
        "SELECT",
    ]
    # The EXECUTE carried the statement the server's X-Trino-Added-Prepare gave the client.
    assert sent[2].prepared_header.startswith(sent[1].sql.split()[1] + "=")


def test_trino_client_reads_the_column_types(server: PrestoTestServer) -> None:
    connection = trino.dbapi.connect(
        host=server.host, port=server.port, user="tester", catalog="hive", schema="dispatch"
    )
    cursor = connection.cursor()
    cursor.execute(
        "SELECT DATE '2026-03-02' AS d, TIMESTAMP '2026-03-02 12:00:01.250' AS t,"
        " CAST('1.25' AS DECIMAL(10, 2)) AS m, ARRAY[1, 2] AS a,"
        " CAST('NaN' AS DOUBLE) AS n, true AS b, CAST(7 AS BIGINT) AS i, 'x' AS s"
    )
    [row] = cursor.fetchall()
    assert row[:4] == [
        dt.date(2026, 3, 2),
        dt.datetime(2026, 3, 2, 12, 0, 1, 250000),
        decimal.Decimal("1.25"),
        [1, 2],
    ]
    assert math.isnan(row[4])
    assert row[5:] == [True, 7, "x"]
    assert [column.type_code for column in cursor.description] == [
        "date", "timestamp(6)", "decimal(10,2)", "array(integer)", "double", "boolean", "bigint", "varchar",
    ]  # fmt: skip


def test_partition_sync_is_accepted_for_fact_tables_only(server: PrestoTestServer) -> None:
    ok = _follow(
        server, _post(server, "CALL system.sync_partition_metadata('dispatch', 'gps', 'FULL')").json()
    )
    assert ok[-1].json()["stats"]["state"] == "FINISHED"
    bad = _follow(
        server, _post(server, "CALL system.sync_partition_metadata('dispatch', 'nope', 'FULL')").json()
    )
    assert bad[-1].json()["error"]["errorName"] == "TABLE_NOT_FOUND"


def test_fail_next_resets_connections_then_serves_again(server: PrestoTestServer) -> None:
    server.fail_next(1)
    with pytest.raises(requests.ConnectionError):
        _post(server, "SELECT 1")
    assert _post(server, "SELECT 1").status_code == 200
