"""PrestoWarehouse and TrinoWarehouse through their real clients against the Presto-protocol test server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import trino
from django.test import override_settings

from dashboard.config import parse_warehouse
from storage.warehouse.base import WarehouseError
from storage.warehouse.parquet import write_fact_table
from storage.warehouse.presto import PrestoWarehouse, TrinoWarehouse, partition_sync_sql
from tests.servers.presto_server import PrestoTestServer, presto_server
from tests.storage.warehouse.fixtures import PROD, QUOTED_JOB

Backend = PrestoWarehouse | TrinoWarehouse
BACKENDS: dict[str, type[PrestoWarehouse] | type[TrinoWarehouse]] = {
    "presto": PrestoWarehouse,
    "trino": TrinoWarehouse,
}


@pytest.fixture(scope="module")
def server(warehouse_root: Path) -> Iterator[PrestoTestServer]:
    with presto_server(warehouse_root, page_size=100) as running:
        yield running


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, server: PrestoTestServer) -> Backend:
    config = parse_warehouse(server.warehouse_url(scheme=request.param), var_dir=Path("/unused"))
    return BACKENDS[request.param](
        host=config.host, port=config.port, user=config.user, catalog=config.catalog, schema=config.schema
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_engine_and_dialect_name_the_backend(backend: Backend) -> None:
    assert (
        backend.engine == backend.dialect == ("presto" if isinstance(backend, PrestoWarehouse) else "trino")
    )


def test_select_returns_a_typed_frame(backend: Backend) -> None:
    frame = backend.execute(
        "SELECT job, ts, pickup_lat, promised_ts FROM job_events WHERE dataset = ? AND type = ? ORDER BY job",
        [PROD, "job_created"],
    )
    assert list(frame.columns) == ["job", "ts", "pickup_lat", "promised_ts"]
    assert frame["job"].tolist() == ["order:b1", "order:b2", "order:b3", QUOTED_JOB, "order:p1"]
    assert [str(dtype) for dtype in frame.dtypes] == ["string", "Int64", "float64", "Int64"]
    assert frame["promised_ts"].isna().tolist() == [False, False, False, False, True]


@pytest.mark.parametrize(
    "value",
    [
        "order:o'brien",
        "it''s",
        "x' OR '1'='1",
        "back\\slash",
        'double "quote"',
        "ünïcødé ✓",
        "semi; colon --",
    ],
)
def test_string_parameters_round_trip_exactly(backend: Backend, value: str) -> None:
    frame = backend.execute("SELECT ? AS echoed, length(?) AS n", [value, value])
    assert frame["echoed"].tolist() == [value]
    assert frame["n"].tolist() == [len(value)]


def test_scalar_parameters_keep_their_types(backend: Backend) -> None:
    frame = backend.execute("SELECT ? AS i, ? AS f, ? AS b, ? + 1 AS next_i", [41, 2.5, True, 41])
    assert frame.to_dict("records") == [{"i": 41, "f": 2.5, "b": True, "next_i": 42}]


def test_numpy_scalars_from_a_frame_are_accepted_as_parameters(backend: Backend) -> None:
    frame = backend.execute("SELECT ? AS i, ? AS f", [np.int64(7), np.float64(0.5)])
    assert frame.to_dict("records") == [{"i": 7, "f": 0.5}]


def test_parameters_are_bound_never_spliced_into_the_statement(
    backend: Backend, server: PrestoTestServer
) -> None:
    before = len(server.received)
    frame = backend.execute("SELECT count(*) AS n FROM job_events WHERE job = ?", [QUOTED_JOB])
    assert frame["n"].tolist() == [3]
    sent = [statement.sql for statement in server.received[before:]]
    # The statement text the client registers (PREPARE … FROM, or EXECUTE IMMEDIATE '…') keeps the `?`.
    statement = next(s for s in sent if s.startswith(("PREPARE", "EXECUTE IMMEDIATE 'SELECT count")))
    assert "WHERE job = ?" in statement
    assert "brien" not in statement.split(" USING ")[0]


def test_a_multi_page_result_arrives_whole_and_in_order(backend: Backend, server: PrestoTestServer) -> None:
    backend.execute("SELECT 1")  # trino's one-time EXECUTE IMMEDIATE probe happens here, not below
    before = len(server.requests)
    frame = backend.execute("SELECT x FROM UNNEST(sequence(1, 345)) AS t(x) ORDER BY x")
    assert frame["x"].tolist() == list(range(1, 346))
    methods = [method for method, _ in server.requests[before:]]
    assert methods == ["POST", "GET", "GET", "GET", "GET"]  # one statement, four pages of at most 100 rows


def test_an_empty_result_keeps_its_columns_and_types(backend: Backend) -> None:
    frame = backend.execute("SELECT job, ts FROM job_events WHERE job = ?", ["order:none"])
    assert frame.empty
    assert list(frame.columns) == ["job", "ts"]
    assert [str(dtype) for dtype in frame.dtypes] == ["string", "Int64"]


def test_an_engine_error_is_its_message_not_a_stack_trace(backend: Backend) -> None:
    with pytest.raises(WarehouseError) as raised:
        backend.execute("SELECT no_such_column FROM job_events")
    message = str(raised.value)
    assert message.startswith(f"{backend.engine}: ")
    assert "no_such_column" in message
    assert "COLUMN_NOT_FOUND" in message
    assert "Traceback" not in message
    assert "\n" not in message


def test_a_syntax_error_names_the_position(backend: Backend) -> None:
    with pytest.raises(WarehouseError, match=r"line 1:\d+: .*\(SYNTAX_ERROR\)"):
        backend.execute("SELEC 1")


def test_a_coordinator_outage_is_one_clear_error_and_the_next_call_works(
    backend: Backend, server: PrestoTestServer
) -> None:
    assert backend.execute("SELECT 1 AS one")["one"].tolist() == [1]
    server.fail_next(backend.attempts)  # every attempt of the next request is reset
    with pytest.raises(WarehouseError) as raised:
        backend.execute("SELECT ? AS two", [2])
    message = str(raised.value)
    assert f"coordinator at {server.host}:{server.port} is unreachable" in message
    assert "check WAREHOUSE" in message
    assert backend.execute("SELECT ? AS three", [3])["three"].tolist() == [3]


def test_a_dropped_page_is_fetched_again_without_losing_or_repeating_rows(
    backend: Backend, server: PrestoTestServer
) -> None:
    backend.execute("SELECT 1")  # trino's one-time EXECUTE IMMEDIATE probe happens here, not below
    server.fail_next(1, after=2)  # the POST and the first page answer; the second page's GET is reset once
    frame = backend.execute("SELECT x FROM UNNEST(sequence(1, 250)) AS t(x) ORDER BY x")
    assert frame["x"].tolist() == list(range(1, 251))


@pytest.mark.parametrize("engine", sorted(BACKENDS))
def test_an_unreachable_coordinator_names_the_setting(engine: str) -> None:
    port = _free_port()
    warehouse = BACKENDS[engine](
        host="127.0.0.1", port=port, user="u", catalog="hive", schema="dispatch", attempts=1
    )
    with pytest.raises(WarehouseError) as raised:
        warehouse.execute("SELECT 1")
    label = engine.capitalize()
    assert str(raised.value) == (
        f"{label} coordinator at 127.0.0.1:{port} is unreachable (Connection refused); check WAREHOUSE"
    )


@pytest.mark.parametrize(
    ("status", "words"), [(404, "answered HTTP 404"), (503, "is unreachable (HTTP 503)")]
)
@pytest.mark.parametrize("engine", sorted(BACKENDS))
def test_a_wrong_endpoint_names_the_status_and_the_setting(engine: str, status: int, words: str) -> None:
    class NotACoordinator(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    http = ThreadingHTTPServer(("127.0.0.1", 0), NotACoordinator)
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        port = http.server_address[1]
        warehouse = BACKENDS[engine](
            host="127.0.0.1", port=port, user="u", catalog="c", schema="s", attempts=1
        )
        with pytest.raises(WarehouseError) as raised:
            warehouse.execute("SELECT ?", [1])
    finally:
        http.shutdown()
        http.server_close()
    assert (
        str(raised.value) == f"{engine.capitalize()} coordinator at 127.0.0.1:{port} {words}; check WAREHOUSE"
    )


@pytest.mark.parametrize("engine", sorted(BACKENDS))
def test_from_options_without_a_host_names_the_setting(engine: str) -> None:
    with pytest.raises(WarehouseError, match=f"set WAREHOUSE={engine}://user@host:8080/catalog/schema"):
        BACKENDS[engine].from_options(
            {"host": "", "port": 8080, "user": "", "catalog": "hive", "schema": "x"}
        )


def test_concurrent_calls_do_not_mix_their_prepared_statements(backend: Backend) -> None:
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def run(value: int) -> None:
        try:
            results[value] = backend.execute("SELECT ? AS v", [value])["v"].tolist()
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(value,)) for value in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert results == {value: [value] for value in range(8)}


@pytest.mark.parametrize("engine", sorted(BACKENDS))
def test_refresh_makes_a_new_table_visible(engine: str, tmp_path: Path) -> None:
    with presto_server(tmp_path) as fresh:
        trino.dbapi.must_use_legacy_prepared_statements.cache.pop((fresh.host, fresh.port), None)
        warehouse = BACKENDS[engine](
            host=fresh.host, port=fresh.port, user="u", catalog="hive", schema="dispatch"
        )
        assert warehouse.execute("SELECT count(*) AS n FROM gps")["n"].tolist() == [0]
        rows = pa.table(
            {
                "entity": ["courier:c1"],
                "ts": [1_772_452_800_000],
                "lat": [52.52],
                "lon": [13.405],
                "speed_mps": [None],
                "heading_deg": [None],
                "accuracy_m": [None],
                "dataset": [PROD],
                "city": ["berlin"],
            }
        )
        write_fact_table(root=tmp_path, table="gps", rows=rows)

        before = len(fresh.received)
        warehouse.refresh()

        assert [s.sql for s in fresh.received[before:]] == [
            partition_sync_sql(schema="dispatch", table=table, dialect=engine)
            for table in (
                "job_events",
                "rounds",
                "candidates",
                "entity_states",
                "experiment_assignments",
                "gps_anomalies",
                "gps",
            )
        ]
        assert warehouse.execute("SELECT count(*) AS n FROM gps")["n"].tolist() == [1]


def test_partition_sync_takes_only_whitelisted_tables() -> None:
    assert partition_sync_sql(schema="o'dd", table="gps", dialect="trino") == (
        "CALL system.sync_partition_metadata('o''dd', 'gps', 'FULL')"
    )
    with pytest.raises(ValueError, match="unknown fact table"):
        partition_sync_sql(schema="dispatch", table="gps; DROP TABLE x", dialect="presto")


@pytest.mark.parametrize("engine", sorted(BACKENDS))
def test_the_configured_warehouse_is_chosen_by_the_warehouse_setting(
    engine: str, server: PrestoTestServer
) -> None:
    from storage.connections import warehouses

    config = parse_warehouse(server.warehouse_url(scheme=engine), var_dir=Path("/unused"))
    setting = {"default": config.setting()}
    with override_settings(WAREHOUSES=setting):
        warehouse = warehouses["default"]
        result = warehouse.query("job_events", dataset=PROD, job="order:b1")
    assert type(warehouse) is BACKENDS[engine]
    assert result.engine == engine
    assert len(result.frame) == 6
