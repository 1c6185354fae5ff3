"""Typed reading of the environment: the one place configuration comes from.

Every variable has a default that gives a working embedded setup; a bad value fails at start-up with a
message naming the variable and listing what it accepts. `dashboard/settings.py` reads every variable
through the `env_*` functions here, and turns TRACK_STORE and WAREHOUSE into alias entries whose OPTIONS
hold only what their backend takes; `dashboard/checks.py` validates those options in `manage.py check`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TRACK_STORE_SCHEMES = ("lmdb", "hbase")
WAREHOUSE_SCHEMES = ("duckdb", "presto", "trino")
TRACK_STORE_BACKENDS = {"lmdb": "storage.kv.lmdb.LMDBStore", "hbase": "storage.kv.hbase.HBaseStore"}
WAREHOUSE_BACKENDS = {
    "duckdb": "storage.warehouse.duckdb.DuckDBWarehouse",
    "presto": "storage.warehouse.presto.PrestoWarehouse",
    "trino": "storage.warehouse.presto.TrinoWarehouse",
}
BOOLEAN_WORDS = {
    **dict.fromkeys(("1", "true", "yes", "on"), True),
    **dict.fromkeys(("0", "false", "no", "off", ""), False),
}


class ConfigurationError(RuntimeError):
    """An environment variable holds a value Dispatchscope cannot use."""


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    """`name` as text (surrounding whitespace removed), or `default` when unset or empty."""
    raw = (os.environ if environ is None else environ).get(name)
    return default if raw is None or raw.strip() == "" else raw.strip()


def env_bool(name: str, default: bool = False, *, environ: Mapping[str, str] | None = None) -> bool:
    """`name` as a boolean; accepts 1/0, true/false, yes/no, on/off."""
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None:
        return default
    try:
        return BOOLEAN_WORDS[raw.strip().lower()]
    except KeyError:
        accepted = ", ".join(sorted(k for k in BOOLEAN_WORDS if k))
        raise ConfigurationError(f"{name}={raw!r} is not a boolean; accepted values: {accepted}") from None


def env_int(name: str, default: int, *, minimum: int = 0, environ: Mapping[str, str] | None = None) -> int:
    """`name` as an integer no smaller than `minimum`."""
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ConfigurationError(f"{name}={value} must be at least {minimum}")
    return value


def env_path(name: str, default: Path, *, environ: Mapping[str, str] | None = None) -> Path:
    """`name` as a filesystem path, or `default`."""
    raw = env_str(name, environ=environ)
    return Path(raw) if raw else default


def env_list(name: str, default: tuple[str, ...], *, environ: Mapping[str, str] | None = None) -> list[str]:
    """`name` as a comma-separated list with empty items dropped."""
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int_map(name: str, *, environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """`name` as comma-separated `key=integer` pairs (`credits=8,fetch_window_ms=600000`); {} when unset."""
    raw = env_str(name, environ=environ)
    out: dict[str, int] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        try:
            if not sep or not key:
                raise ValueError
            out[key] = int(value)
        except ValueError:
            raise ConfigurationError(f"{name}: {item!r} is not key=integer (example: credits=8)") from None
    return out


@dataclass(frozen=True)
class TrackStoreConfig:
    """Where tracks and events live: `lmdb` (a directory) or `hbase` (a Thrift server), with the options
    of that backend only."""

    scheme: str
    options: tuple[tuple[str, Any], ...]

    @property
    def backend(self) -> str:
        """The dotted path of the backend class."""
        return TRACK_STORE_BACKENDS[self.scheme]

    def setting(self) -> dict[str, Any]:
        """The TRACK_STORES alias entry: BACKEND, OPTIONS and the variable it came from."""
        return {"BACKEND": self.backend, "OPTIONS": dict(self.options), "SETTING": "TRACK_STORE"}


@dataclass(frozen=True)
class WarehouseConfig:
    """Where the SQL warehouse lives: `duckdb` over a Parquet root, or a Presto/Trino coordinator."""

    scheme: str
    path: Path | None = None
    host: str = ""
    port: int = 0
    user: str = ""
    catalog: str = ""
    schema: str = ""

    @property
    def backend(self) -> str:
        """The dotted path of the backend class."""
        return WAREHOUSE_BACKENDS[self.scheme]

    def setting(self) -> dict[str, Any]:
        """The WAREHOUSES alias entry: BACKEND, this backend's OPTIONS, and the variable it came from."""
        if self.scheme == "duckdb":
            options: dict[str, Any] = {"root": str(self.path)}
        else:
            options = {
                "host": self.host,
                "port": self.port,
                "user": self.user,
                "catalog": self.catalog,
                "schema": self.schema,
            }
        return {"BACKEND": self.backend, "OPTIONS": options, "SETTING": "WAREHOUSE"}


def parse_track_store(raw: str, *, var_dir: Path, map_size_gb: int = 64) -> TrackStoreConfig:
    """Parse TRACK_STORE: `lmdb:///abs/dir`, `lmdb:relative/dir` or `hbase://host:port/prefix?opts`."""
    if not raw:
        return TrackStoreConfig(
            scheme="lmdb", options=(("path", str(var_dir / "tracks")), ("map_size_gb", map_size_gb))
        )
    parts = urlsplit(raw)
    if parts.scheme not in TRACK_STORE_SCHEMES:
        raise ConfigurationError(
            f"TRACK_STORE={raw!r} has an unknown scheme {parts.scheme!r}; accepted: "
            + ", ".join(f"{s}://" for s in TRACK_STORE_SCHEMES)
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme == "lmdb":
        path_text = unquote(parts.netloc + parts.path)
        if not path_text:
            raise ConfigurationError(f"TRACK_STORE={raw!r} names no directory (example: lmdb:///srv/tracks)")
        if query:
            raise ConfigurationError(
                f"TRACK_STORE={raw!r}: lmdb:// takes no options ({', '.join(sorted(query))}); "
                "its map size comes from LMDB_MAP_SIZE_GB"
            )
        return TrackStoreConfig(scheme="lmdb", options=(("path", path_text), ("map_size_gb", map_size_gb)))
    if not parts.hostname:
        raise ConfigurationError(f"TRACK_STORE={raw!r} names no host (example: hbase://host:9090/dispatch)")
    options = {"host": parts.hostname, "port": parts.port or 9090, "prefix": parts.path.strip("/"), **query}
    return TrackStoreConfig(scheme="hbase", options=tuple(sorted(options.items())))


def parse_warehouse(raw: str, *, var_dir: Path, default_root: Path | None = None) -> WarehouseConfig:
    """Parse WAREHOUSE: `duckdb:///abs/dir`, `presto://user@host:port/catalog/schema` or `trino://…`;
    unset, DuckDB over `default_root` (WAREHOUSE_ROOT) or `var_dir/warehouse`."""
    if not raw:
        return WarehouseConfig(scheme="duckdb", path=default_root or var_dir / "warehouse")
    parts = urlsplit(raw)
    if parts.scheme not in WAREHOUSE_SCHEMES:
        raise ConfigurationError(
            f"WAREHOUSE={raw!r} has an unknown scheme {parts.scheme!r}; accepted: "
            + ", ".join(f"{s}://" for s in WAREHOUSE_SCHEMES)
        )
    if parts.scheme == "duckdb":
        path_text = unquote(parts.netloc + parts.path)
        if not path_text:
            raise ConfigurationError(
                f"WAREHOUSE={raw!r} names no directory (example: duckdb:///srv/warehouse)"
            )
        return WarehouseConfig(scheme="duckdb", path=Path(path_text))
    segments = [s for s in parts.path.split("/") if s]
    if not parts.hostname or len(segments) != 2:
        raise ConfigurationError(
            f"WAREHOUSE={raw!r} must look like {parts.scheme}://user@host:8080/catalog/schema"
        )
    return WarehouseConfig(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or 8080,
        user=unquote(parts.username or "dispatchscope"),
        catalog=segments[0],
        schema=segments[1],
    )


def warehouse_root_resolve(*, warehouse: WarehouseConfig, root: str, var_dir: Path) -> Path:
    """Where the pipeline writes Parquet: WAREHOUSE_ROOT, else DuckDB's own root, else `var_dir/warehouse`.

    Raises ConfigurationError when WAREHOUSE_ROOT and WAREHOUSE=duckdb:///… name different directories, since
    the pipeline would write where DuckDB never reads."""
    if warehouse.scheme == "duckdb" and warehouse.path is not None:
        if root and Path(root).resolve() != warehouse.path.resolve():
            raise ConfigurationError(
                f"WAREHOUSE_ROOT={root!r} and WAREHOUSE=duckdb://{warehouse.path} name different "
                "directories: the pipeline would write Parquet where DuckDB never reads. "
                "Set one of them, or both alike."
            )
        return warehouse.path
    return Path(root) if root else var_dir / "warehouse"
