"""Presto and Trino over the same Parquet fact tables, seen through a Hive catalog.

Layout: `<catalog>.<schema>.<table>` is an external Hive table over `<root>/<table>/` with the file columns
of TABLE_SCHEMAS followed by the partition columns `dataset`, `dt`, `city` (VARCHAR), and
`<catalog>.<schema>.jobs` is the view of sql/jobs_view.sql; `manage.py warehouse_ddl --engine presto|trino`
prints that DDL. Queries arrive in the engine's dialect with `?` placeholders; the client library binds the
values (PREPARE/EXECUTE or EXECUTE IMMEDIATE with the value list), so no value is formatted into SQL here.

One client connection per call: presto-python-client keeps prepared statements in its HTTP session's headers,
so a shared connection would let two threads' PREPAREs overwrite each other.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import re
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Self
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import prestodb
import pyarrow as pa
import requests
import trino
from sqlglot import exp

from storage.warehouse.base import Warehouse, WarehouseError, frame_from_arrow
from storage.warehouse.schema import TABLES

_SETTING = "WAREHOUSE"
_DEFAULT_ATTEMPTS = 3
_DEFAULT_TIMEOUT_S = 30.0


class _CoordinatorWarehouse(Warehouse):
    """A warehouse behind a Presto-protocol coordinator; subclasses name the engine and its client."""

    #: Human name in messages ("Presto", "Trino").
    label: ClassVar[str] = ""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str,
        catalog: str,
        schema: str,
        attempts: int = _DEFAULT_ATTEMPTS,
        timeout_s: float = _DEFAULT_TIMEOUT_S,
    ) -> None:
        missing = [
            name for name, value in (("host", host), ("catalog", catalog), ("schema", schema)) if not value
        ]
        if missing or not port:
            raise WarehouseError(
                f"the {self.label} warehouse needs a host, port, catalog and schema "
                f"(missing {', '.join(missing or ['port'])}); set {_SETTING}="
                f"{self.engine}://user@host:8080/catalog/schema"
            )
        self.host = host
        self.port = int(port)
        self.user = user or "dispatchscope"
        self.catalog = catalog
        self.schema = schema
        self.attempts = max(1, int(attempts))
        self.timeout_s = float(timeout_s)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """The warehouse of an alias's OPTIONS: host, port, user, catalog, schema, [attempts, timeout_s]."""
        return cls(
            host=str(options.get("host") or ""),
            port=int(options.get("port") or 0),
            user=str(options.get("user") or ""),
            catalog=str(options.get("catalog") or ""),
            schema=str(options.get("schema") or ""),
            attempts=int(options.get("attempts") or _DEFAULT_ATTEMPTS),
            timeout_s=float(options.get("timeout_s") or _DEFAULT_TIMEOUT_S),
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Rows of `sql` with `?`s bound by the client library, typed as frame_from_arrow.

        WarehouseError names the coordinator and the setting when it cannot be reached, and carries the
        engine's own message (not a stack trace) when it rejects the query.
        """
        values = [_param_plain(value) for value in params]
        try:
            rows, columns = self._rows_fetch(sql, values)
        except WarehouseError:
            raise
        except Exception as exc:
            raise self._error(exc) from exc
        return frame_from_arrow(_arrow_table(columns, rows))

    def refresh(self) -> None:
        """Register partitions written since the last call with the metastore (sync_partition_metadata)."""
        for table in TABLES:
            self.execute(partition_sync_sql(schema=self.schema, table=table, dialect=self.dialect))

    # -- per engine ------------------------------------------------------------------------------------

    @abstractmethod
    def _rows_fetch(self, sql: str, values: list[Any]) -> tuple[list[list[Any]], list[tuple[str, str]]]:
        """(rows as the coordinator's JSON values, [(column name, Presto type)]) of one statement."""

    def _error(self, exc: Exception) -> WarehouseError:
        """The WarehouseError a client exception means for a user."""
        message = getattr(exc, "message", None)
        name = getattr(exc, "error_name", None)
        if isinstance(message, str) and name is not None:
            # A query error payload from the coordinator: its message is what the user needs.
            return WarehouseError(f"{self.engine}: {message} ({name})")
        if _is_unreachable(exc):
            return WarehouseError(
                f"{self.label} coordinator at {self.host}:{self.port} is unreachable ({_reason(exc)}); "
                f"check {_SETTING}"
            )
        status = re.match(r"error (\d{3})", str(exc))
        if status:
            return WarehouseError(
                f"{self.label} coordinator at {self.host}:{self.port} answered HTTP {status.group(1)}; "
                f"check {_SETTING}"
            )
        return WarehouseError(f"{self.engine}: {type(exc).__name__}: {_first_line(str(exc))}")


class PrestoWarehouse(_CoordinatorWarehouse):
    """Presto (prestodb) through presto-python-client: PREPARE, EXECUTE … USING, DEALLOCATE per call."""

    engine = "presto"
    dialect = "presto"
    label = "Presto"

    def _rows_fetch(self, sql: str, values: list[Any]) -> tuple[list[list[Any]], list[tuple[str, str]]]:
        connection = prestodb.dbapi.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            catalog=self.catalog,
            schema=self.schema,
            source="dispatchscope",
            max_attempts=self.attempts,
            request_timeout=self.timeout_s,
        )
        try:
            cursor = connection.cursor()
            cursor.execute(sql, values or None)
            rows = cursor.fetchall()
            description = cursor.description or []
            return rows, [(str(column[0]), str(column[1])) for column in description]
        finally:
            # The client's own close() is a no-op; its HTTP session would otherwise hold sockets until GC.
            connection._http_session.close()


class TrinoWarehouse(_CoordinatorWarehouse):
    """Trino through the trino client: EXECUTE IMMEDIATE where the coordinator has it, else PREPARE."""

    engine = "trino"
    dialect = "trino"
    label = "Trino"

    def _rows_fetch(self, sql: str, values: list[Any]) -> tuple[list[list[Any]], list[tuple[str, str]]]:
        session = requests.Session()
        connection = trino.dbapi.Connection(
            host=self.host,
            port=self.port,
            user=self.user,
            catalog=self.catalog,
            schema=self.schema,
            source="dispatchscope",
            http_scheme="http",
            max_attempts=self.attempts,
            request_timeout=self.timeout_s,
            # Raw JSON values, so both engines' rows go through the same typed conversion below.
            legacy_primitive_types=True,
            http_session=session,
        )
        try:
            cursor = connection.cursor()
            cursor.execute(sql, values or None)
            rows = cursor.fetchall()
            description = cursor.description or []
            return rows, [(str(column[0]), str(column[1])) for column in description]
        finally:
            session.close()


def partition_sync_sql(*, schema: str, table: str, dialect: str) -> str:
    """`CALL system.sync_partition_metadata(schema, table, 'FULL')` for a whitelisted table of TABLES."""
    if table not in TABLES:
        raise ValueError(f"unknown fact table {table!r}; known: {', '.join(TABLES)}")
    # Identifiers, not values: the table is whitelisted and the schema comes from settings; both are quoted
    # as SQL string literals by sqlglot, which is how the procedure takes them.
    arguments = ", ".join(exp.Literal.string(text).sql(dialect=dialect) for text in (schema, table, "FULL"))
    return f"CALL system.sync_partition_metadata({arguments})"


# ---------------------------------------------------------------------------------------------------------
# Errors


def _is_unreachable(exc: BaseException) -> bool:
    """True for refused, reset, dropped or timed-out connections, however the client wrapped them."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)):
            return True
        if type(current).__name__ in ("TrinoConnectionError", "Http502Error", "Http503Error", "Http504Error"):
            return True
        current = current.__cause__ or current.__context__
    return False


_ERRNO_RE = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def _reason(exc: BaseException) -> str:
    """A few words on why the connection failed: "Connection refused", "connection dropped", ..."""
    text = str(exc)
    if match := _ERRNO_RE.search(text):
        return match.group(1).strip()
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "connection dropped"
    if "timed out" in text.lower() or isinstance(exc, (requests.Timeout, TimeoutError)):
        return "timed out"
    if status := re.search(r"error (\d{3})", text):
        return f"HTTP {status.group(1)}"
    return _first_line(text) or type(exc).__name__


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# ---------------------------------------------------------------------------------------------------------
# Values


def _param_plain(value: Any) -> Any:
    """`value` as a type the clients can format (numpy and pandas scalars become Python ones)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


_TYPE_RE = re.compile(r"\s*([a-z ]+?)\s*(?:\((.*)\))?\s*(with time zone)?\s*", re.IGNORECASE | re.DOTALL)


def _type_split(presto_type: str) -> tuple[str, str, bool]:
    """(base name, text inside the parentheses, with time zone) of a Presto type name."""
    match = _TYPE_RE.fullmatch(presto_type)
    if match is None:
        return presto_type.strip().lower(), "", False
    return match.group(1).lower(), match.group(2) or "", bool(match.group(3))


def _timestamp_value(text: str, *, zoned: bool) -> dt.datetime:
    """`YYYY-MM-DD HH:MM:SS[.f…][ zone]` as a datetime (UTC-aware when zoned), sub-µs digits dropped."""
    stamp = text.strip()
    zone = ""
    if zoned:
        stamp, _, zone = stamp.rpartition(" ")
    whole, dot, fraction = stamp.partition(".")
    value = dt.datetime.fromisoformat(whole + (dot + fraction[:6].ljust(6, "0") if dot else ""))
    if not zoned:
        return value
    if zone.startswith(("+", "-")):
        offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6] or 0))
        tz: dt.tzinfo = dt.timezone(offset if zone[0] == "+" else -offset)
    else:
        tz = ZoneInfo(zone)
    return value.replace(tzinfo=tz).astimezone(dt.UTC)


def _converter(presto_type: str) -> tuple[pa.DataType | None, Callable[[Any], Any]]:
    """The Arrow type of a Presto column type and the conversion of its JSON values (None: infer)."""
    base, inner, zoned = _type_split(presto_type)
    if base in ("bigint", "integer", "smallint", "tinyint"):
        arrow = {"bigint": pa.int64(), "integer": pa.int32(), "smallint": pa.int16(), "tinyint": pa.int8()}
        return arrow[base], int
    if base in ("double", "real"):
        # float() reads the coordinator's "NaN", "Infinity" and "-Infinity" strings too.
        return (pa.float64() if base == "double" else pa.float32()), float
    if base == "boolean":
        return pa.bool_(), bool
    if base in ("varchar", "char", "json", "uuid", "ipaddress"):
        return pa.string(), str
    if base == "date":
        return pa.date32(), dt.date.fromisoformat
    if base == "timestamp":
        return (
            pa.timestamp("us", tz="UTC" if zoned else None),
            lambda value: _timestamp_value(str(value), zoned=zoned),
        )
    if base == "decimal":
        precision, _, scale = inner.partition(",")
        return pa.decimal128(int(precision), int(scale or 0)), lambda value: decimal.Decimal(str(value))
    if base == "varbinary":
        return pa.binary(), lambda value: base64.b64decode(str(value))
    if base == "array":
        element_type, element = _converter(inner)
        return (
            pa.list_(element_type) if element_type is not None else None,
            lambda value: [None if item is None else element(item) for item in value],
        )
    if base == "unknown":
        return pa.null(), lambda value: value
    return None, lambda value: value


def _arrow_table(columns: list[tuple[str, str]], rows: list[list[Any]]) -> pa.Table:
    """The rows as an Arrow table typed from the Presto column types."""
    arrays = []
    for index, (_, presto_type) in enumerate(columns):
        arrow_type, convert = _converter(presto_type)
        values = [None if row[index] is None else convert(row[index]) for row in rows]
        try:
            arrays.append(pa.array(values, type=arrow_type))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # Structural values (maps, rows) Arrow cannot infer one type for: keep them as JSON text.
            arrays.append(pa.array([None if v is None else json.dumps(v) for v in values], type=pa.string()))
    return pa.Table.from_arrays(arrays, names=[name for name, _ in columns])
