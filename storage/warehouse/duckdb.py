"""DuckDB over the Parquet fact tables, read in place: an in-memory database that holds only views.

Layout: one view per fact table, `<table>` = SELECT <file columns>, dataset, dt, city FROM
read_parquet('<root>/<table>/**/*.parquet', hive_partitioning = true, hive_types = {dataset, dt, city:
VARCHAR}, union_by_name = true); a table with no file yet is an empty SELECT of typed NULLs with the same
columns. `jobs` = sql/jobs_view.sql transpiled to DuckDB. The glob is expanded on every query, so new files
of a table that already had files are visible at once; `refresh()` handles a table's first (or last) file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from storage.warehouse.base import Warehouse, WarehouseError, frame_from_arrow
from storage.warehouse.queries import render
from storage.warehouse.schema import PARTITION_COLUMNS, TABLE_SCHEMAS, TABLES, column_sql_type

_SETTING_HINT = "check the WAREHOUSE setting"
_GLOB_CHARS = frozenset("*?[]{}")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBWarehouse(Warehouse):
    """The embedded warehouse: DuckDB views over `<root>/<table>/dataset=…/dt=…/city=…/*.parquet`."""

    engine = "duckdb"
    dialect = "duckdb"

    def __init__(self, *, root: Path) -> None:
        self.root = Path(root)
        if _GLOB_CHARS & set(str(self.root)):
            raise WarehouseError(f"warehouse root {self.root} contains glob characters; {_SETTING_HINT}")
        self._lock = threading.Lock()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._closed = False
        self._tables_with_files: frozenset[str] = frozenset()
        self._root_check()
        self._connection = duckdb.connect(":memory:")
        try:
            self._session_configure(self._connection)
            with self._lock:
                self._views_create(force=True)
        except BaseException:
            self._connection.close()
            raise

    @classmethod
    def options_check(cls, options: Mapping[str, Any]) -> None:
        """WarehouseError when the OPTIONS cannot work (no root, glob characters, not a directory)."""
        unknown = set(options) - {"root"}
        if unknown:
            raise WarehouseError(f"the DuckDB warehouse takes only a root, not {', '.join(sorted(unknown))}")
        root = Path(str(options.get("root") or ""))
        if not str(options.get("root") or ""):
            raise WarehouseError(f"the DuckDB warehouse needs a root directory; {_SETTING_HINT}")
        if _GLOB_CHARS & set(str(root)):
            raise WarehouseError(f"warehouse root {root} contains glob characters; {_SETTING_HINT}")
        if root.exists() and not root.is_dir():
            raise WarehouseError(f"warehouse root {root} is not a directory; {_SETTING_HINT}")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DuckDBWarehouse:
        """A warehouse over options["root"] (a WAREHOUSES alias's OPTIONS); WarehouseError without one."""
        root = str(options.get("root") or "")
        if not root:
            raise WarehouseError(f"the DuckDB warehouse needs a root directory; {_SETTING_HINT}")
        return cls(root=Path(root))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Rows of `sql` with `?`s bound by DuckDB (values never enter the SQL text), as frame_from_arrow."""
        cursor = self.cursor()
        try:
            relation = cursor.sql(sql, params=list(params))
            table = relation.to_arrow_table() if relation is not None else pa.table({})
        except duckdb.IOException as exc:
            raise WarehouseError(f"duckdb: {exc} (warehouse root {self.root}; {_SETTING_HINT})") from exc
        except duckdb.Error as exc:
            raise WarehouseError(f"duckdb: {exc}") from exc
        return frame_from_arrow(table)

    def refresh(self) -> None:
        """Re-create the views of tables that gained their first file (or lost their last) since last time."""
        with self._lock:
            self._closed_check()
            self._views_create(force=False)

    def close(self) -> None:
        """Close every thread's cursor and the database; later calls raise WarehouseError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for cursor in self._cursors:
                cursor.close()
            self._cursors.clear()
            self._connection.close()

    # -- internals ---------------------------------------------------------------------------------------

    @staticmethod
    def _session_configure(connection: duckdb.DuckDBPyConnection) -> None:
        # Times are epoch ms UTC; any timestamp the SQL derives from them must print as UTC too.
        connection.execute("SET TimeZone = 'UTC'")

    def _closed_check(self) -> None:
        if self._closed:
            raise WarehouseError("the DuckDB warehouse is closed")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's connection to the shared in-memory database (one connection per thread)."""
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is not None and not self._closed:
            return cursor
        with self._lock:
            self._closed_check()
            cursor = self._connection.cursor()
            self._session_configure(cursor)
            self._cursors.append(cursor)
        self._local.cursor = cursor
        return cursor

    def _root_check(self) -> None:
        """WarehouseError if the root exists but cannot be listed; a missing root reads as empty tables."""
        if not self.root.exists():
            return
        if not self.root.is_dir() or not os.access(self.root, os.R_OK | os.X_OK):
            raise WarehouseError(f"warehouse root {self.root} is not a readable directory; {_SETTING_HINT}")

    def _table_has_files(self, table: str) -> bool:
        try:
            return next((self.root / table).glob("**/*.parquet"), None) is not None
        except OSError as exc:
            raise WarehouseError(f"cannot list {self.root / table}: {exc}; {_SETTING_HINT}") from exc

    def _views_create(self, *, force: bool) -> None:
        """(Re)create the views whose table's has-files state changed, and `jobs` over `job_events`."""
        self._root_check()
        with_files = frozenset(table for table in TABLES if self._table_has_files(table))
        changed = (
            TABLES
            if force
            else tuple(t for t in TABLES if (t in with_files) != (t in self._tables_with_files))
        )
        try:
            for table in changed:
                body = self._table_select(table, has_files=table in with_files)
                self._connection.execute(f"CREATE OR REPLACE VIEW {table} AS {body}")
            if force or "job_events" in changed:
                jobs_sql, _ = render("jobs_view", self.dialect, {})
                self._connection.execute(f"CREATE OR REPLACE VIEW jobs AS {jobs_sql}")
        except duckdb.Error as exc:
            raise WarehouseError(f"duckdb: {exc} (warehouse root {self.root}; {_SETTING_HINT})") from exc
        self._tables_with_files = with_files

    def _table_select(self, table: str, *, has_files: bool) -> str:
        """The body of `table`'s view: identifiers only from TABLE_SCHEMAS, the root as a quoted literal."""
        schema = TABLE_SCHEMAS[table]
        if not has_files:
            columns = [
                f"CAST(NULL AS {column_sql_type(field.type).upper()}) AS {field.name}" for field in schema
            ]
            columns += [f"CAST(NULL AS VARCHAR) AS {name}" for name in PARTITION_COLUMNS]
            return f"SELECT {', '.join(columns)} WHERE false"
        pattern = _sql_string(f"{self.root / table}/**/*.parquet")
        hive_types = ", ".join(f"{_sql_string(name)}: 'VARCHAR'" for name in PARTITION_COLUMNS)
        names = ", ".join([*schema.names, *PARTITION_COLUMNS])
        return (
            f"SELECT {names} FROM read_parquet({pattern}, hive_partitioning = true, "
            f"hive_types = {{{hive_types}}}, union_by_name = true)"
        )
