import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from dashboard.config import ConfigurationError, parse_track_store, parse_warehouse, warehouse_root_resolve

ROOT = Path(__file__).resolve().parent.parent


def test_unknown_track_store_scheme_lists_accepted(tmp_path):
    with pytest.raises(ConfigurationError, match=r"lmdb://, hbase://"):
        parse_track_store("cassandra://x", var_dir=tmp_path)


def test_unknown_warehouse_scheme_lists_accepted(tmp_path):
    with pytest.raises(ConfigurationError, match=r"duckdb://, presto://, trino://"):
        parse_warehouse("mysql://x", var_dir=tmp_path)


def test_home_needs_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_each_backend_gets_only_its_own_options(tmp_path):
    lmdb = parse_track_store("", var_dir=tmp_path, map_size_gb=8).setting()
    assert lmdb == {
        "BACKEND": "storage.kv.lmdb.LMDBStore",
        "OPTIONS": {"path": str(tmp_path / "tracks"), "map_size_gb": 8},
        "SETTING": "TRACK_STORE",
    }
    hbase = parse_track_store("hbase://h:9091/p?transport=framed&salts=8", var_dir=tmp_path).setting()
    assert hbase["OPTIONS"] == {"host": "h", "port": 9091, "prefix": "p", "transport": "framed", "salts": "8"}
    trino = parse_warehouse("trino://u@h:8080/hive/d", var_dir=tmp_path).setting()
    assert trino["OPTIONS"] == {"host": "h", "port": 8080, "user": "u", "catalog": "hive", "schema": "d"}


def test_lmdb_urls_take_no_options(tmp_path):
    with pytest.raises(ConfigurationError, match="LMDB_MAP_SIZE_GB"):
        parse_track_store("lmdb:///srv/t?map_size_gb=2", var_dir=tmp_path)


def test_a_warehouse_root_that_disagrees_with_duckdbs_is_refused(tmp_path):
    duckdb = parse_warehouse(f"duckdb://{tmp_path / 'a'}", var_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="name different directories"):
        warehouse_root_resolve(warehouse=duckdb, root=str(tmp_path / "b"), var_dir=tmp_path)
    assert (
        warehouse_root_resolve(warehouse=duckdb, root=str(tmp_path / "a"), var_dir=tmp_path) == tmp_path / "a"
    )


def test_warehouse_root_alone_moves_the_embedded_warehouse_with_it(tmp_path):
    unset = parse_warehouse("", var_dir=tmp_path, default_root=tmp_path / "elsewhere")
    assert unset.path == tmp_path / "elsewhere"
    assert warehouse_root_resolve(warehouse=unset, root=str(tmp_path / "elsewhere"), var_dir=tmp_path) == (
        tmp_path / "elsewhere"
    )


def test_settings_refuse_a_split_warehouse_at_start_up(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DISPATCHSCOPE_VAR_DIR": str(tmp_path),
        "WAREHOUSE": f"duckdb://{tmp_path / 'a'}",
        "WAREHOUSE_ROOT": str(tmp_path / "b"),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert "WAREHOUSE_ROOT" in done.stderr
    assert "name different directories" in done.stderr


def _check(tmp_path, **variables):
    env = {"PATH": "/usr/bin:/bin", "DISPATCHSCOPE_VAR_DIR": str(tmp_path), **variables}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"TRACK_STORE": "hbase://h:9090/p?transport=bogus"}, "transport='bogus' is not one of"),
        ({"TRACK_STORE": "hbase://h:9090/p?colour=red"}, "unknown option(s) colour"),
        ({"TRACK_STORE": "hbase://h:9090/p?salts=999"}, "salts=999 must be between 1 and 256"),
        ({"WAREHOUSE": "duckdb:///tmp/wh[1]"}, "glob characters"),
    ],
)
def test_check_names_the_variable_whose_backend_options_cannot_work(tmp_path, variables, expected):
    done = _check(tmp_path, **variables)
    assert done.returncode != 0
    assert expected in done.stderr
    variable = next(iter(variables))
    assert f"HINT: Check {variable}." in done.stderr


def test_check_passes_the_embedded_defaults_without_creating_anything(tmp_path):
    done = _check(tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "tracks").exists(), "checking must not open the store"
