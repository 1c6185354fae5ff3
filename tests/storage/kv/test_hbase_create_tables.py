"""`manage.py hbase_create_tables`: tables through Thrift, and the pre-split `hbase shell` script."""

from __future__ import annotations

import io
import re
import socket
from typing import Any

import orjson
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from storage.keys import Layout
from storage.kv.base import TABLES
from storage.kv.hbase import SALTED_TABLES
from storage.tracks.layout import LAYOUT_VERSION, layout_record
from tests.servers import hbase_thrift
from tests.servers.hbase_thrift import HBaseTestServer

# The server's fixture, made visible to this module.
hbase_thrift_server = hbase_thrift.hbase_thrift_server


def _hbase_settings(**options: Any) -> dict[str, dict[str, Any]]:
    return {
        "default": {
            "BACKEND": "storage.kv.hbase.HBaseStore",
            "OPTIONS": {"path": "", "map_size_gb": 64, **options},
            "SETTING": "TRACK_STORE",
        }
    }


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("hbase_create_tables", *args, stdout=out)
    return out.getvalue()


def test_creates_every_table_with_one_family_of_one_version_and_records_salts(
    hbase_thrift_server: HBaseTestServer,
) -> None:
    settings = _hbase_settings(host="127.0.0.1", port=str(hbase_thrift_server.port), prefix="disp", salts="8")
    with override_settings(TRACK_STORES=settings):
        first = _run()
        second = _run()

    tables = hbase_thrift_server.handler.tables
    assert sorted(tables) == sorted(f"disp_{t}".encode() for t in TABLES)
    for table in tables.values():
        assert list(table.families) == [b"d"]
        assert table.families[b"d"].maxVersions == 1
    assert list(tables[b"disp_meta"].rows) == [b"layout"]
    assert orjson.loads(tables[b"disp_meta"].rows[b"layout"][b"d:v"][0]) == {
        "version": LAYOUT_VERSION, "salts": 8, "track_bucket_ms": 3_600_000, "cell_bucket_ms": 120_000,
        "cell_e7": 100_000,
    }  # fmt: skip
    assert "disp_track: created" in first
    assert f"layout version {LAYOUT_VERSION} with salt count 8 recorded in disp_meta" in first
    assert "--print-shell" in first  # Thrift cannot pre-split: the command says how to
    assert "disp_track: exists" in second


def test_refuses_tables_recorded_with_another_salt_count(hbase_thrift_server: HBaseTestServer) -> None:
    settings = _hbase_settings(host="127.0.0.1", port=hbase_thrift_server.port, prefix="disp", salts="16")
    with override_settings(TRACK_STORES=settings):
        _run()

    settings = _hbase_settings(host="127.0.0.1", port=hbase_thrift_server.port, prefix="disp", salts="4")
    with override_settings(TRACK_STORES=settings), pytest.raises(CommandError, match=r"salts=16.*salts=4"):
        _run()


def test_print_shell_writes_a_script_pre_split_by_salt_without_connecting() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        unused_port = probe.getsockname()[1]
    settings = _hbase_settings(host="127.0.0.1", port=unused_port, prefix="dispatch", salts="16")

    with override_settings(TRACK_STORES=settings):
        script = _run("--print-shell")

    # Fifteen split points make sixteen regions, one per salt byte 0x00..0x0f (Ruby reads "\\x01" as a byte).
    splits = (
        r'"\x01", "\x02", "\x03", "\x04", "\x05", "\x06", "\x07", "\x08", '
        r'"\x09", "\x0a", "\x0b", "\x0c", "\x0d", "\x0e", "\x0f"'
    )
    for table in SALTED_TABLES:
        assert (
            f"create 'dispatch_{table}', {{NAME => 'd', VERSIONS => 1, BLOOMFILTER => 'ROW', "
            f"COMPRESSION => 'NONE', DATA_BLOCK_ENCODING => 'FAST_DIFF'}}, SPLITS => [{splits}]"
        ) in script
    meta_line = next(line for line in script.splitlines() if line.startswith("create 'dispatch_meta'"))
    assert "SPLITS" not in meta_line
    record = layout_record(Layout(salts=16)).decode().replace('"', '\\"')
    assert "put 'dispatch_meta', \"layout\", 'd:v', \"" + record + '"' in script
    assert len(re.findall(r"^create ", script, flags=re.MULTILINE)) == len(TABLES)


def test_print_shell_with_one_salt_has_no_split_points() -> None:
    with override_settings(TRACK_STORES=_hbase_settings(host="h", prefix="p", salts="1")):
        script = _run("--print-shell")

    assert "SPLITS" not in script
    assert "create 'p_track', {NAME => 'd', VERSIONS => 1" in script


def test_an_lmdb_track_store_is_refused_naming_the_setting() -> None:
    lmdb = {"default": {"BACKEND": "storage.kv.lmdb.LMDBStore", "OPTIONS": {}, "SETTING": "TRACK_STORE"}}
    with override_settings(TRACK_STORES=lmdb), pytest.raises(CommandError, match="TRACK_STORE does not name"):
        _run()


def test_an_unreachable_server_is_a_command_error_naming_the_setting() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        unused_port = probe.getsockname()[1]
    settings = _hbase_settings(host="127.0.0.1", port=unused_port, prefix="p")

    with override_settings(TRACK_STORES=settings), pytest.raises(CommandError, match="check TRACK_STORE"):
        _run()
