"""A Presto/Trino-protocol HTTP server in front of DuckDB, for testing the real client libraries.

Wire layout (what a coordinator speaks, as far as presto-python-client and trino use it):
- `POST /v1/statement` (SQL text body, `X-Presto-*` or `X-Trino-*` headers) → `{id, infoUri, nextUri, stats}`
  in state QUEUED. Nothing runs until the client follows `nextUri`.
- `GET /v1/statement/executing/<id>/<token>` → page `token` (1-based): `columns` (Presto type names and
  type signatures) and up to `page_size` rows of `data`; every page but the last has a `nextUri`, the last is
  FINISHED. A page may be fetched again (a client retrying a dropped GET gets the same rows).
- `DELETE` on a `nextUri` or on `/v1/query/<id>` cancels (204). A failed statement answers with `error`
  {message, errorCode, errorName, errorType, failureInfo} and state FAILED, as the coordinator does.
- Prepared statements live in the client, as with the real protocol: `PREPARE n FROM sql` answers with
  `X-…-Added-Prepare: n=<urlencoded sql>`, later requests carry `X-…-Prepared-Statement: n=<urlencoded sql>`
  and `EXECUTE n USING …` reads the statement from that header; `DEALLOCATE PREPARE n` answers with
  `X-…-Deallocated-Prepare: n`. `EXECUTE IMMEDIATE 'sql' USING …` is accepted from Trino clients unless
  the server is started with `execute_immediate=False` (then it fails as on Trino < 418 and Presto,
  which makes the trino client fall back to PREPARE/EXECUTE). USING values are parsed with sqlglot and
  bound as DuckDB parameters; no value is ever pasted into SQL text.
- `CALL system.sync_partition_metadata(...)` re-reads the Parquet layout (DuckDB reads files live, so this
  only re-creates the views, as the DuckDB backend's refresh does).

SQL arrives in the Presto (or Trino) dialect and is transpiled to DuckDB with sqlglot; the DuckDB database's
views over the Parquet root are created by the DuckDB backend's own code, so both see the same tables.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import itertools
import json
import math
import re
import socket
import struct
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote_plus, unquote_plus, urlsplit

import duckdb
import sqlglot
from duckdb.sqltypes import DuckDBPyType
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType

from storage.warehouse.base import Warehouse, WarehouseError
from storage.warehouse.duckdb import DuckDBWarehouse
from storage.warehouse.presto import PrestoWarehouse, TrinoWarehouse
from storage.warehouse.schema import TABLES

#: Rows per data page; small so that tests see multi-page results without big tables.
DEFAULT_PAGE_SIZE = 100
#: Finished queries kept so a retried GET of their last page still answers.
_KEPT_QUERIES = 256

_PREPARE_RE = re.compile(
    r"\s*PREPARE\s+([A-Za-z_][A-Za-z0-9_]*)\s+FROM\s+(.+?)\s*", re.IGNORECASE | re.DOTALL
)
_EXECUTE_IMMEDIATE_RE = re.compile(r"\s*EXECUTE\s+IMMEDIATE\s+(.+?)\s*", re.IGNORECASE | re.DOTALL)
_EXECUTE_RE = re.compile(
    r"\s*EXECUTE\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+USING\s+(.+?))?\s*", re.IGNORECASE | re.DOTALL
)
_DEALLOCATE_RE = re.compile(r"\s*DEALLOCATE\s+PREPARE\s+([A-Za-z_][A-Za-z0-9_]*)\s*", re.IGNORECASE)
_CALL_SYNC_RE = re.compile(
    r"\s*CALL\s+((?:[A-Za-z_]\w*\.)*system\.sync_partition_metadata\s*\(.*\))\s*", re.I | re.S
)


class PrestoFailure(Exception):
    """A statement failed; carries the fields of the protocol's `error` object."""

    # (code, type) of the standard error names this server uses; the codes are Trino's StandardErrorCode.
    CODES: ClassVar[dict[str, tuple[int, str]]] = {
        "GENERIC_USER_ERROR": (0, "USER_ERROR"),
        "SYNTAX_ERROR": (1, "USER_ERROR"),
        "USER_CANCELED": (3, "USER_ERROR"),
        "NOT_FOUND": (5, "USER_ERROR"),
        "FUNCTION_NOT_FOUND": (6, "USER_ERROR"),
        "INVALID_FUNCTION_ARGUMENT": (7, "USER_ERROR"),
        "DIVISION_BY_ZERO": (8, "USER_ERROR"),
        "INVALID_CAST_ARGUMENT": (9, "USER_ERROR"),
        "NOT_SUPPORTED": (13, "USER_ERROR"),
        "PROCEDURE_NOT_FOUND": (29, "USER_ERROR"),
        "INVALID_PROCEDURE_ARGUMENT": (30, "USER_ERROR"),
        "INVALID_PARAMETER_USAGE": (80, "USER_ERROR"),
        "TABLE_NOT_FOUND": (46, "USER_ERROR"),
        "COLUMN_NOT_FOUND": (47, "USER_ERROR"),
        "GENERIC_INTERNAL_ERROR": (65536, "INTERNAL_ERROR"),
    }

    def __init__(
        self, name: str, message: str, *, exception_type: str = "io.trino.spi.TrinoException"
    ) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.exception_type = exception_type

    def payload(self) -> dict[str, Any]:
        """The `error` object of a FAILED query result."""
        code, kind = self.CODES[self.name]
        return {
            "message": self.message,
            "errorCode": code,
            "errorName": self.name,
            "errorType": kind,
            "failureInfo": {
                "type": self.exception_type,
                "message": self.message,
                "suppressed": [],
                "stack": [],
            },
        }


# ---------------------------------------------------------------------------------------------------------
# Statements


@dataclass(frozen=True)
class _Statement:
    """What a request asks for: `kind` is query (EXECUTE resolved to its SQL), prepare, deallocate or sync."""

    kind: str
    sql: str = ""
    name: str = ""
    params: tuple[Any, ...] = ()


def _statement_parse(text: str, *, dialect: str, prepared: dict[str, str], immediate: bool) -> _Statement:
    """The request's statement, with EXECUTE resolved to its SQL and USING values as Python values."""
    if match := _PREPARE_RE.fullmatch(text):
        _sql_parse(match.group(2), dialect=dialect)  # PREPARE checks the syntax, as the coordinator does
        return _Statement(kind="prepare", name=match.group(1), sql=match.group(2))
    if match := _DEALLOCATE_RE.fullmatch(text):
        return _Statement(kind="deallocate", name=match.group(1))
    if match := _EXECUTE_IMMEDIATE_RE.fullmatch(text):
        if not immediate:
            raise PrestoFailure(
                "SYNTAX_ERROR",
                "line 1:9: mismatched input 'IMMEDIATE'. Expecting: <identifier>",
                exception_type="io.trino.sql.parser.ParsingException",
            )
        sql, using = _immediate_split(match.group(1), dialect=dialect)
        return _Statement(kind="query", sql=sql, params=_using_values(using, dialect=dialect))
    if match := _EXECUTE_RE.fullmatch(text):
        name = match.group(1)
        if name not in prepared:
            raise PrestoFailure("NOT_FOUND", f"Prepared statement not found: {name}")
        return _Statement(
            kind="query", sql=prepared[name], name=name, params=_using_values(match.group(2), dialect=dialect)
        )
    if match := _CALL_SYNC_RE.fullmatch(text):
        return _Statement(kind="sync", sql=match.group(1))
    return _Statement(kind="query", sql=text)


def _immediate_split(rest: str, *, dialect: str) -> tuple[str, str | None]:
    """(statement text, USING list text or None) of the part after `EXECUTE IMMEDIATE`."""
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(rest)
    except TokenError as exc:
        raise PrestoFailure("SYNTAX_ERROR", f"line 1:19: {exc}") from exc
    if not tokens or tokens[0].token_type != TokenType.STRING:
        raise PrestoFailure("SYNTAX_ERROR", "line 1:19: EXECUTE IMMEDIATE expects a string literal")
    sql = tokens[0].text
    if len(tokens) == 1:
        return sql, None
    if tokens[1].token_type != TokenType.USING or len(tokens) == 2:
        raise PrestoFailure(
            "SYNTAX_ERROR", f"line 1:{tokens[1].start + 19}: expected USING after the statement"
        )
    return sql, rest[tokens[1].end + 1 :]


def _using_values(using: str | None, *, dialect: str) -> tuple[Any, ...]:
    """The values of an `EXECUTE … USING v1, v2` list; only literals (as the clients send) are accepted."""
    if using is None:
        return ()
    try:
        select = sqlglot.parse_one(f"SELECT {using}", read=dialect)
    except ParseError as exc:
        raise PrestoFailure("SYNTAX_ERROR", f"USING list does not parse: {exc}") from exc
    if not isinstance(select, exp.Select):
        raise PrestoFailure("SYNTAX_ERROR", "USING takes a list of literal values")
    return tuple(_literal_value(expression) for expression in select.expressions)


_FUNCTION_VALUES = {"infinity": math.inf, "nan": math.nan}


def _literal_value(node: exp.Expression) -> Any:
    """The Python value of a literal the clients' parameter formatters produce."""
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = str(node.this)
        return int(text) if re.fullmatch(r"\d+", text) else float(text)
    if isinstance(node, exp.Neg):
        inner = _literal_value(node.this)
        if isinstance(inner, (int, float, decimal.Decimal)) and not isinstance(inner, bool):
            return -inner
    if isinstance(node, exp.Paren):
        return _literal_value(node.this)
    if isinstance(node, exp.HexString):
        return bytes.fromhex(str(node.this))
    if (
        isinstance(node, exp.Anonymous)
        and not node.expressions
        and str(node.this).lower() in _FUNCTION_VALUES
    ):
        return _FUNCTION_VALUES[str(node.this).lower()]
    if isinstance(node, exp.Array):
        return [_literal_value(item) for item in node.expressions]
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        return _typed_literal(node.to, str(node.this.this))
    raise PrestoFailure(
        "INVALID_PARAMETER_USAGE", f"EXECUTE parameters must be literals, got {node.sql(dialect='trino')}"
    )


def _typed_literal(to: exp.DataType, text: str) -> Any:
    """The value of `TYPE 'text'` (DOUBLE, DECIMAL, DATE, TIMESTAMP, UUID ...)."""
    kind = to.this
    try:
        if kind in (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT):
            return float(text)
        if kind == exp.DataType.Type.DECIMAL:
            return decimal.Decimal(text)
        if kind == exp.DataType.Type.DATE:
            return dt.date.fromisoformat(text)
        if kind in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ):
            return _timestamp_parse(text)
        if kind == exp.DataType.Type.UUID:
            return uuid.UUID(text)
        if kind in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
            return text
    except ValueError as exc:
        raise PrestoFailure("INVALID_CAST_ARGUMENT", f"Value cannot be cast to {to.sql()}: {text}") from exc
    raise PrestoFailure("NOT_SUPPORTED", f"EXECUTE parameters of type {to.sql()} are not supported here")


def _timestamp_parse(text: str) -> dt.datetime:
    """`YYYY-MM-DD HH:MM:SS[.ffffff][ zone]`; a zone name or offset makes it aware (UTC for 'UTC')."""
    stamp, _, zone = text.strip().partition(" ")
    clock, _, zone = zone.partition(" ")
    value = dt.datetime.fromisoformat(f"{stamp} {clock}".strip())
    if zone in ("UTC", "Z", "+00:00"):
        return value.replace(tzinfo=dt.UTC)
    if zone:
        return dt.datetime.fromisoformat(f"{stamp} {clock}{zone}")
    return value


def _sql_parse(sql: str, *, dialect: str) -> exp.Expr:
    """One statement of Presto/Trino SQL; SYNTAX_ERROR with the position as the coordinator reports it."""
    try:
        statements = [statement for statement in sqlglot.parse(sql, read=dialect) if statement is not None]
    except (ParseError, TokenError) as exc:
        errors = getattr(exc, "errors", None) or [{}]
        first = errors[0]
        line, column = first.get("line", 1), first.get("col", 1)
        description = first.get("description") or str(exc)
        near = first.get("highlight")
        detail = f"{description} near '{near}'" if near else description
        raise PrestoFailure(
            "SYNTAX_ERROR",
            f"line {line}:{column}: {detail}",
            exception_type="io.trino.sql.parser.ParsingException",
        ) from exc
    if len(statements) != 1:
        raise PrestoFailure(
            "SYNTAX_ERROR",
            "line 1:1: expected exactly one statement",
            exception_type="io.trino.sql.parser.ParsingException",
        )
    if isinstance(statements[0], exp.Command):
        raise PrestoFailure(
            "SYNTAX_ERROR",
            f"line 1:1: mismatched input '{statements[0].this}'",
            exception_type="io.trino.sql.parser.ParsingException",
        )
    return statements[0]


def _session_unqualify(tree: exp.Expr, *, catalog: str, schema: str) -> exp.Expr:
    """`tree` with `catalog.schema.t` and `schema.t` of the session's own schema read as `t`.

    The coordinator resolves those names to the session's tables; DuckDB holds them unqualified.
    """
    for table in tree.find_all(exp.Table):
        table_catalog, table_schema = table.catalog, table.db
        if table_schema == schema and table_catalog in ("", catalog):
            table.set("db", None)
            table.set("catalog", None)
    return tree


def _column_names(tree: exp.Expr, duck_names: list[str]) -> list[str]:
    """Output names as Presto gives them: the alias or column name, `_colN` for unnamed expressions."""
    select: exp.Expr = tree
    while isinstance(select, exp.SetOperation):
        select = select.left
    if not isinstance(select, exp.Select) or any(isinstance(e, exp.Star) for e in select.expressions):
        return duck_names
    if len(select.expressions) != len(duck_names):
        return duck_names
    names = []
    for index, projection in enumerate(select.expressions):
        if isinstance(projection, exp.Alias | exp.Column):
            names.append(projection.alias_or_name)
        else:
            names.append(f"_col{index}")
    return names


# ---------------------------------------------------------------------------------------------------------
# Types and values


@dataclass(frozen=True)
class _ColumnType:
    """A column's Presto type name and its type signature."""

    name: str
    signature: dict[str, Any]


def _signature(raw: str, arguments: list[tuple[str, Any]], *, trino: bool) -> dict[str, Any]:
    """A typeSignature in the coordinator's shape: Trino's `arguments` kinds, or Presto's older ones."""
    if trino:
        return {"rawType": raw, "arguments": [{"kind": kind, "value": value} for kind, value in arguments]}
    presto_kinds = {"LONG": "LONG_LITERAL", "TYPE": "TYPE_SIGNATURE", "NAMED_TYPE": "NAMED_TYPE_SIGNATURE"}
    return {
        "rawType": raw,
        "typeArguments": [value for kind, value in arguments if kind == "TYPE"],
        "literalArguments": [],
        "arguments": [{"kind": presto_kinds[kind], "value": value} for kind, value in arguments],
    }


_SIMPLE_TYPES = {
    "bigint": "bigint",
    "hugeint": "bigint",  # DuckDB sums BIGINTs into HUGEINT; Presto's sum of bigint is bigint
    "ubigint": "bigint",
    "uinteger": "bigint",
    "integer": "integer",
    "usmallint": "integer",
    "smallint": "smallint",
    "utinyint": "smallint",
    "tinyint": "tinyint",
    "double": "double",
    "float": "real",
    "boolean": "boolean",
    "date": "date",
    "blob": "varbinary",
    "uuid": "uuid",
    "interval": "interval day to second",
    "null": "unknown",
    "json": "json",
}


_NESTED = frozenset({"decimal", "list", "map", "struct"})


def _column_type(duck: DuckDBPyType, *, trino: bool) -> _ColumnType:
    """The Presto type of a DuckDB result type."""
    kind = duck.id
    if kind == "varchar":
        return _ColumnType("varchar", _signature("varchar", [("LONG", 2147483647)], trino=trino))
    if kind in _SIMPLE_TYPES:
        name = _SIMPLE_TYPES[kind]
        return _ColumnType(name, _signature(name, [], trino=trino))
    if kind in ("timestamp", "timestamp_ms", "timestamp_s", "timestamp_ns"):
        if trino:
            return _ColumnType("timestamp(6)", _signature("timestamp", [("LONG", 6)], trino=True))
        return _ColumnType("timestamp", _signature("timestamp", [], trino=False))
    if kind == "timestamp with time zone":
        if trino:
            return _ColumnType(
                "timestamp(6) with time zone",
                _signature("timestamp with time zone", [("LONG", 6)], trino=True),
            )
        return _ColumnType(
            "timestamp with time zone", _signature("timestamp with time zone", [], trino=False)
        )
    children = [(str(name), child) for name, child in duck.children] if kind in _NESTED else []
    if kind == "decimal":
        sizes = {name: child for name, child in children if isinstance(child, int)}
        precision, scale = sizes["precision"], sizes["scale"]
        return _ColumnType(
            f"decimal({precision},{scale})",
            _signature("decimal", [("LONG", precision), ("LONG", scale)], trino=trino),
        )
    nested = [(name, child) for name, child in children if isinstance(child, DuckDBPyType)]
    if kind == "list":
        element = _column_type(nested[0][1], trino=trino)
        return _ColumnType(
            f"array({element.name})", _signature("array", [("TYPE", element.signature)], trino=trino)
        )
    if kind == "map":
        key = _column_type(nested[0][1], trino=trino)
        value = _column_type(nested[1][1], trino=trino)
        return _ColumnType(
            f"map({key.name}, {value.name})",
            _signature("map", [("TYPE", key.signature), ("TYPE", value.signature)], trino=trino),
        )
    if kind == "struct":
        fields = [(name, _column_type(child, trino=trino)) for name, child in nested]
        return _ColumnType(
            "row(" + ", ".join(f'"{name}" {field.name}' for name, field in fields) + ")",
            _signature(
                "row",
                [
                    (
                        "NAMED_TYPE",
                        {"fieldName": {"name": name, "delimited": False}, "typeSignature": f.signature},
                    )
                    for name, f in fields
                ],
                trino=trino,
            ),
        )
    return _ColumnType("varchar", _signature("varchar", [("LONG", 2147483647)], trino=trino))


def _json_value(value: Any, *, trino: bool) -> Any:
    """`value` as the coordinator encodes it in `data` (strings for dates, decimals and special doubles)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        digits = 6 if trino else 3
        text = value.strftime("%Y-%m-%d %H:%M:%S.%f")[: 20 + digits]
        if value.tzinfo is not None:
            offset = value.utcoffset()
            text += " UTC" if not offset else " " + value.strftime("%z")[:3] + ":" + value.strftime("%z")[3:]
        return text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        total_ms = round(value.total_seconds() * 1000)
        sign = "-" if total_ms < 0 else ""
        days, rest = divmod(abs(total_ms), 86_400_000)
        hours, rest = divmod(rest, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        seconds, millis = divmod(rest, 1000)
        return f"{sign}{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(item, trino=trino) for item in value]
    if isinstance(value, dict):
        # DuckDB gives a struct as a dict of fields (Presto: a JSON array) and a map as a dict of keys.
        return {str(key): _json_value(item, trino=trino) for key, item in value.items()}
    return str(value)


def _row_json(row: tuple[Any, ...], kinds: Sequence[str], *, trino: bool) -> list[Any]:
    """One row's JSON values; struct columns become arrays of their fields, as Presto sends rows."""
    out = []
    for value, kind in zip(row, kinds, strict=True):
        if kind == "struct" and isinstance(value, dict):
            out.append([_json_value(item, trino=trino) for item in value.values()])
        else:
            out.append(_json_value(value, trino=trino))
    return out


# ---------------------------------------------------------------------------------------------------------
# Queries


@dataclass
class _Query:
    """One submitted statement and, once it ran, its result pages or its failure."""

    id: str
    text: str
    trino: bool
    prepared: dict[str, str]
    catalog: str = ""
    schema: str = ""
    ran: bool = False
    cancelled: bool = False
    columns: list[dict[str, Any]] | None = None
    pages: list[list[list[Any]]] = field(default_factory=list)
    failure: PrestoFailure | None = None
    update_type: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReceivedStatement:
    """A statement as the server received it: the SQL text and the protocol prefix (Presto or Trino)."""

    sql: str
    protocol: str
    prepared_header: str


class PrestoTestServer:
    """The running server: where it listens, its DuckDB connection, and knobs to simulate failures."""

    def __init__(
        self, *, warehouse: DuckDBWarehouse, root: Path, page_size: int, execute_immediate: bool
    ) -> None:
        self.warehouse = warehouse
        #: A connection to the DuckDB backend's database (its views); used under the server's lock only.
        self.connection: duckdb.DuckDBPyConnection = warehouse.cursor()
        self.root = root
        self.page_size = page_size
        self.execute_immediate = execute_immediate
        #: Every statement POSTed, in order (what the clients actually sent).
        self.received: list[ReceivedStatement] = []
        #: (method, path) of every HTTP request answered, in order (round trips, pages fetched).
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, _Query] = OrderedDict()
        self._counter = itertools.count(1)
        self._fail_remaining = 0
        self._fail_skip = 0
        self._http = _HTTPServer(("127.0.0.1", 0), _handler_class(self))
        # A short poll interval: stop() waits for the serving loop to notice, once per test.
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="presto-test-server",
            daemon=True,
        )
        self._stopped = False

    @property
    def host(self) -> str:
        """The address the server listens on (always loopback)."""
        return "127.0.0.1"

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._http.server_address[1])

    @property
    def url(self) -> str:
        """`http://host:port`."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve requests on a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, count: int, *, after: int = 0) -> None:
        """Reset the connection of `count` HTTP requests, after answering `after` more, without a reply.

        A reset with nothing sent is what a crashed coordinator or a dropping proxy looks like to a client.
        """
        with self._lock:
            self._fail_skip = after
            self._fail_remaining = count

    def warehouse_url(self, *, scheme: str, catalog: str = "hive", schema: str = "dispatch") -> str:
        """The WAREHOUSE setting that points at this server."""
        return f"{scheme}://tester@{self.host}:{self.port}/{catalog}/{schema}"

    # -- request handling (called from the HTTP handler threads) --

    def _take_failure(self, method: str, path: str) -> bool:
        with self._lock:
            self.requests.append((method, path))
            if self._fail_skip > 0:
                self._fail_skip -= 1
                return False
            if self._fail_remaining > 0:
                self._fail_remaining -= 1
                self.requests.pop()  # reset, not answered
                return True
            return False

    def _submit(self, text: str, headers: dict[str, str], *, trino: bool) -> dict[str, Any]:
        prefix = "X-Trino-" if trino else "X-Presto-"
        raw_prepared = headers.get(f"{prefix}Prepared-Statement".lower(), "")
        prepared = {}
        for pair in raw_prepared.split(","):
            if "=" in pair:
                name, _, encoded = pair.strip().partition("=")
                prepared[name.strip()] = unquote_plus(encoded.strip())
        with self._lock:
            self.received.append(
                ReceivedStatement(
                    sql=text, protocol="trino" if trino else "presto", prepared_header=raw_prepared
                )
            )
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d_%H%M%S")
            query_id = f"{stamp}_{next(self._counter):05d}_{uuid.uuid4().hex[:5]}"
            query = _Query(
                id=query_id,
                text=text,
                trino=trino,
                prepared=prepared,
                catalog=headers.get(f"{prefix}Catalog".lower(), ""),
                schema=headers.get(f"{prefix}Schema".lower(), ""),
            )
            self._queries[query_id] = query
            while len(self._queries) > _KEPT_QUERIES:
                self._queries.popitem(last=False)
        return self._results(query, token=0)

    def _page(self, query_id: str, token: int) -> dict[str, Any] | None:
        with self._lock:
            query = self._queries.get(query_id)
            if query is None or query.cancelled:
                return None
            if not query.ran:
                self._run(query)
            return self._results(query, token=token)

    def _cancel(self, query_id: str) -> bool:
        with self._lock:
            query = self._queries.get(query_id)
            if query is None:
                return False
            query.cancelled = True
            return True

    def _run(self, query: _Query) -> None:
        """Execute the statement on DuckDB (under the lock: one DuckDB connection serves every thread)."""
        query.ran = True
        dialect = "trino" if query.trino else "presto"
        prefix = "X-Trino-" if query.trino else "X-Presto-"
        try:
            statement = _statement_parse(
                query.text,
                dialect=dialect,
                prepared=query.prepared,
                immediate=query.trino and self.execute_immediate,
            )
            if statement.kind == "prepare":
                query.update_type = "PREPARE"
                query.response_headers[f"{prefix}Added-Prepare"] = (
                    f"{statement.name}={quote_plus(statement.sql)}"
                )
                self._pages_set(query, names=["result"], types=["boolean"], rows=[[True]])
            elif statement.kind == "deallocate":
                query.update_type = "DEALLOCATE"
                query.response_headers[f"{prefix}Deallocated-Prepare"] = statement.name
                self._pages_set(query, names=["result"], types=["boolean"], rows=[[True]])
            elif statement.kind == "sync":
                self._sync(statement.sql, dialect=dialect)
                query.update_type = "CALL"
                query.pages = [[]]
            else:
                self._query_run(query, statement, dialect=dialect)
        except PrestoFailure as failure:
            query.failure = failure
        except duckdb.Error as exc:
            query.failure = _duckdb_failure(exc, catalog=query.catalog, schema=query.schema)
        except WarehouseError as exc:  # the DuckDB backend's refresh could not read the root
            query.failure = PrestoFailure("GENERIC_INTERNAL_ERROR", str(exc))

    def _pages_set(self, query: _Query, *, names: list[str], types: list[str], rows: list[list[Any]]) -> None:
        query.columns = [
            {"name": name, "type": kind, "typeSignature": _signature(kind, [], trino=query.trino)}
            for name, kind in zip(names, types, strict=True)
        ]
        query.pages = [rows]

    def _query_run(self, query: _Query, statement: _Statement, *, dialect: str) -> None:
        tree = _sql_parse(statement.sql, dialect=dialect)
        placeholders = len(list(tree.find_all(exp.Placeholder)))
        if placeholders != len(statement.params):
            raise PrestoFailure(
                "INVALID_PARAMETER_USAGE",
                f"Incorrect number of parameters: expected {placeholders} but found {len(statement.params)}",
            )
        duck_sql = _session_unqualify(tree, catalog=query.catalog, schema=query.schema).sql(dialect="duckdb")
        cursor = self.connection.execute(duck_sql, list(statement.params))
        description = cursor.description
        if description is None:
            query.update_type = type(tree).__name__.upper()
            query.pages = [[]]
            return
        duck_types = [column[1] for column in description]
        kinds = [duck.id for duck in duck_types]
        column_types = [_column_type(duck, trino=query.trino) for duck in duck_types]
        names = _column_names(tree, [str(column[0]) for column in description])
        query.columns = [
            {"name": name, "type": kind.name, "typeSignature": kind.signature}
            for name, kind in zip(names, column_types, strict=True)
        ]
        if not isinstance(tree, exp.Query):
            query.update_type = type(tree).__name__.upper()
        pages: list[list[list[Any]]] = []
        while batch := cursor.fetchmany(self.page_size):
            pages.append([_row_json(row, kinds, trino=query.trino) for row in batch])
        query.pages = pages or [[]]

    def _sync(self, call: str, *, dialect: str) -> None:
        """`system.sync_partition_metadata(schema_name, table_name, mode)`: re-create the DuckDB views."""
        tree = _sql_parse(f"SELECT {call}", dialect=dialect)
        function = tree.find(exp.Anonymous)
        arguments: dict[str, Any] = {}
        if function is not None:
            for position, argument in enumerate(function.expressions):
                if isinstance(argument, exp.Kwarg):
                    arguments[argument.this.name.lower()] = _literal_value(argument.expression)
                else:
                    arguments[("schema_name", "table_name", "mode", "case_sensitive")[position]] = (
                        _literal_value(argument)
                    )
        table = str(arguments.get("table_name", ""))
        if table not in TABLES:
            raise PrestoFailure(
                "TABLE_NOT_FOUND", f"Table '{arguments.get('schema_name')}.{table}' does not exist"
            )
        mode = str(arguments.get("mode", "")).upper()
        if mode not in ("ADD", "DROP", "FULL"):
            raise PrestoFailure("INVALID_PROCEDURE_ARGUMENT", f"Invalid partition metadata sync mode: {mode}")
        self.warehouse.refresh()

    def _results(self, query: _Query, *, token: int) -> dict[str, Any]:
        """The QueryResults document for page `token` (0 is the POST's answer)."""
        body: dict[str, Any] = {
            "id": query.id,
            "infoUri": f"{self.url}/ui/query.html?{query.id}",
            "warnings": [],
        }
        if token == 0:
            body["nextUri"] = f"{self.url}/v1/statement/executing/{query.id}/1"
            body["stats"] = _stats("QUEUED", rows=0)
            return body
        if query.failure is not None:
            body["error"] = query.failure.payload()
            body["stats"] = _stats("FAILED", rows=0)
            return body
        pages = query.pages or [[]]
        index = min(token, len(pages)) - 1
        if query.columns is not None:
            body["columns"] = query.columns
        if pages[index]:
            body["data"] = pages[index]
        if query.update_type is not None:
            body["updateType"] = query.update_type
        rows = sum(len(page) for page in pages[: index + 1])
        if index + 1 < len(pages):
            body["nextUri"] = f"{self.url}/v1/statement/executing/{query.id}/{index + 2}"
            body["stats"] = _stats("RUNNING", rows=rows)
        else:
            body["stats"] = _stats("FINISHED", rows=rows)
        return body


def _stats(state: str, *, rows: int) -> dict[str, Any]:
    """The `stats` object: the state plus the counters clients display."""
    return {
        "state": state,
        "queued": state == "QUEUED",
        "scheduled": state not in ("QUEUED",),
        "nodes": 1,
        "totalSplits": 1,
        "queuedSplits": 0,
        "runningSplits": 0,
        "completedSplits": 1 if state == "FINISHED" else 0,
        "cpuTimeMillis": 0,
        "wallTimeMillis": 0,
        "queuedTimeMillis": 0,
        "elapsedTimeMillis": 0,
        "processedRows": rows,
        "processedBytes": 0,
        "peakMemoryBytes": 0,
    }


def _duckdb_failure(exc: duckdb.Error, *, catalog: str, schema: str) -> PrestoFailure:
    """A DuckDB error as the nearest Presto error name; the message is DuckDB's, first line only."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, duckdb.ParserException):
        return PrestoFailure("SYNTAX_ERROR", message, exception_type="io.trino.sql.parser.ParsingException")
    if isinstance(exc, duckdb.CatalogException):
        if missing := re.search(r"Table with name (\S+) does not exist", message):
            # Worded as the coordinator words it, with the session's catalog and schema.
            qualified = ".".join(part for part in (catalog, schema, missing.group(1)) if part)
            return PrestoFailure("TABLE_NOT_FOUND", f"Table '{qualified}' does not exist")
        if "Table" in message:
            return PrestoFailure("TABLE_NOT_FOUND", message)
        if "Function" in message or "function" in message:
            return PrestoFailure("FUNCTION_NOT_FOUND", message)
        return PrestoFailure("NOT_FOUND", message)
    if isinstance(exc, duckdb.BinderException):
        if "column" in message.lower():
            return PrestoFailure("COLUMN_NOT_FOUND", message)
        return PrestoFailure("GENERIC_USER_ERROR", message)
    if isinstance(exc, duckdb.ConversionException):
        return PrestoFailure("INVALID_CAST_ARGUMENT", message)
    if isinstance(exc, duckdb.InvalidInputException):
        return PrestoFailure("GENERIC_USER_ERROR", message)
    if isinstance(exc, duckdb.OutOfRangeException):
        return PrestoFailure("INVALID_FUNCTION_ARGUMENT", message)
    return PrestoFailure("GENERIC_INTERNAL_ERROR", message)


# ---------------------------------------------------------------------------------------------------------
# HTTP


class _HTTPServer(ThreadingHTTPServer):
    # A deeper accept queue than the default 5: concurrent clients would otherwise wait out a SYN retry.
    request_queue_size = 128
    daemon_threads = True


def _handler_class(server: PrestoTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "Presto-test-server"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read failures from assertions, not from the request log."""

        def _drop(self) -> None:
            # SO_LINGER 0 turns close() into a TCP reset: what a crashed coordinator or a dropping proxy does.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True

        def _send_json(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(body).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _send_status(self, status: int, message: str = "") -> None:
            payload = message.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)

        def do_POST(self) -> None:
            if server._take_failure("POST", self.path):
                self._drop()
                return
            if urlsplit(self.path).path != "/v1/statement":
                self._send_status(404, "Not found")
                return
            length = int(self.headers.get("Content-Length") or 0)
            text = self.rfile.read(length).decode("utf-8")
            headers = {name.lower(): value for name, value in self.headers.items()}
            trino = any(name.startswith("x-trino-") for name in headers)
            user = headers.get("x-trino-user" if trino else "x-presto-user")
            if not user:
                self._send_status(400, "User must be set")
                return
            if not text.strip():
                self._send_status(400, "SQL statement is empty")
                return
            self._send_json(server._submit(text, headers, trino=trino))

        def do_GET(self) -> None:
            if server._take_failure("GET", self.path):
                self._drop()
                return
            parts = urlsplit(self.path).path.strip("/").split("/")
            if len(parts) == 5 and parts[:3] == ["v1", "statement", "executing"] and parts[4].isdigit():
                query_id = parts[3]
                body = server._page(query_id, int(parts[4]))
                if body is None:
                    self._send_status(404, f"Query not found: {query_id}")
                    return
                with server._lock:
                    query = server._queries.get(query_id)
                    extra = dict(query.response_headers) if query is not None else {}
                # The prepare headers travel with the final answer, once the statement has succeeded.
                final = "nextUri" not in body and "error" not in body
                self._send_json(body, extra if final else None)
                return
            self._send_status(404, "Not found")

        def do_DELETE(self) -> None:
            if server._take_failure("DELETE", self.path):
                self._drop()
                return
            parts = urlsplit(self.path).path.strip("/").split("/")
            if len(parts) >= 4 and parts[:3] == ["v1", "statement", "executing"]:
                found = server._cancel(parts[3])
            elif len(parts) == 3 and parts[:2] == ["v1", "query"]:
                found = server._cancel(parts[2])
            else:
                found = False
            self._send_status(204 if found else 404)

    return Handler


# ---------------------------------------------------------------------------------------------------------
# DuckDB side


@contextmanager
def presto_server(
    root: Path, *, page_size: int = DEFAULT_PAGE_SIZE, execute_immediate: bool = True
) -> Iterator[PrestoTestServer]:
    """A running Presto/Trino-protocol server over the Parquet layout at `root`, stopped on exit."""
    # The DuckDB backend builds the views (fact tables and `jobs`) itself, so the server sees exactly
    # what DuckDBWarehouse users see; `sync_partition_metadata` maps to its refresh().
    warehouse = DuckDBWarehouse(root=root)
    server = PrestoTestServer(
        warehouse=warehouse, root=root, page_size=page_size, execute_immediate=execute_immediate
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        warehouse.close()


@contextmanager
def presto_warehouse_build(root: Path) -> Iterator[Warehouse]:
    """A PrestoWarehouse (presto-python-client) talking to a test server over `root` (a contract builder)."""
    with presto_server(root) as server:
        warehouse = PrestoWarehouse.from_options(_server_options(server))
        try:
            yield warehouse
        finally:
            warehouse.close()


@contextmanager
def trino_warehouse_build(root: Path) -> Iterator[Warehouse]:
    """A TrinoWarehouse (trino client) talking to a test server over `root` (a contract builder)."""
    with presto_server(root) as server:
        warehouse = TrinoWarehouse.from_options(_server_options(server))
        try:
            yield warehouse
        finally:
            warehouse.close()


def _server_options(server: PrestoTestServer) -> dict[str, Any]:
    """WAREHOUSES OPTIONS pointing at `server`, as dashboard.settings builds them from WAREHOUSE."""
    return {
        "host": server.host,
        "port": server.port,
        "user": "tester",
        "catalog": "hive",
        "schema": "dispatch",
    }
