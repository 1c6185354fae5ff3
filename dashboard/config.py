"""Typed reading of the environment: the one place configuration comes from.

Every variable has a default that gives a working embedded setup; a bad value fails at start-up with a
message naming the variable and listing what it accepts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

TRACK_STORE_SCHEMES = ("lmdb", "hbase")
WAREHOUSE_SCHEMES = ("duckdb", "presto", "trino")
BOOLEAN_WORDS = {
    **dict.fromkeys(("1", "true", "yes", "on"), True),
    **dict.fromkeys(("0", "false", "no", "off", ""), False),
}


class ConfigurationError(RuntimeError):
    """An environment variable holds a value Dispatchscope cannot use."""


@dataclass(frozen=True)
class TrackStoreConfig:
    """Where tracks and events live: `lmdb` (a directory) or `hbase` (a Thrift server)."""

    scheme: str
    path: Path | None = None
    host: str = ""
    port: int = 0
    prefix: str = ""
    options: tuple[tuple[str, str], ...] = ()

    def option(self, name: str, default: str) -> str:
        """The query-string option `name`, or `default`."""
        return dict(self.options).get(name, default)


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


def env_bool(name: str, default: bool = False) -> bool:
    """`name` as a boolean; accepts 1/0, true/false, yes/no, on/off."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return BOOLEAN_WORDS[raw.strip().lower()]
    except KeyError:
        accepted = ", ".join(sorted(k for k in BOOLEAN_WORDS if k))
        raise ConfigurationError(f"{name}={raw!r} is not a boolean; accepted values: {accepted}") from None


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """`name` as an integer no smaller than `minimum`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ConfigurationError(f"{name}={value} must be at least {minimum}")
    return value


def parse_track_store(raw: str, *, var_dir: Path) -> TrackStoreConfig:
    """Parse TRACK_STORE: `lmdb:///abs/dir`, `lmdb:relative/dir` or `hbase://host:port/prefix?opts`."""
    if not raw:
        return TrackStoreConfig(scheme="lmdb", path=var_dir / "tracks")
    parts = urlsplit(raw)
    if parts.scheme not in TRACK_STORE_SCHEMES:
        raise ConfigurationError(
            f"TRACK_STORE={raw!r} has an unknown scheme {parts.scheme!r}; accepted: "
            + ", ".join(f"{s}://" for s in TRACK_STORE_SCHEMES)
        )
    options = tuple(sorted((k, v[-1]) for k, v in parse_qs(parts.query).items()))
    if parts.scheme == "lmdb":
        path_text = unquote(parts.netloc + parts.path)
        if not path_text:
            raise ConfigurationError(f"TRACK_STORE={raw!r} names no directory (example: lmdb:///srv/tracks)")
        return TrackStoreConfig(scheme="lmdb", path=Path(path_text), options=options)
    if not parts.hostname:
        raise ConfigurationError(f"TRACK_STORE={raw!r} names no host (example: hbase://host:9090/dispatch)")
    return TrackStoreConfig(
        scheme="hbase",
        host=parts.hostname,
        port=parts.port or 9090,
        prefix=parts.path.strip("/"),
        options=options,
    )


def parse_warehouse(raw: str, *, var_dir: Path) -> WarehouseConfig:
    """Parse WAREHOUSE: `duckdb:///abs/dir`, `presto://user@host:port/catalog/schema` or `trino://…`."""
    if not raw:
        return WarehouseConfig(scheme="duckdb", path=var_dir / "warehouse")
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
