"""The warehouse interface: named queries written once in the Presto dialect, returning DataFrames."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa


def frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    """`table` as a DataFrame with the dtypes every backend returns, whatever the engine's client gives.

    Integers → "Int64", booleans → "boolean", text → "string" (all with pd.NA for SQL NULL), floating
    point → float64 (NaN for NULL). Whole-number decimals (DuckDB's HUGEINT sums and count_if arrive as
    decimal(38, 0)) become "Int64" too, failing loudly rather than wrapping if one does not fit.
    Other types keep pyarrow's default conversion.
    """

    def dtype_for(arrow_type: pa.DataType) -> Any:
        if pa.types.is_integer(arrow_type):
            return pd.Int64Dtype()
        if pa.types.is_boolean(arrow_type):
            return pd.BooleanDtype()
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            return pd.StringDtype()
        if pa.types.is_string_view(arrow_type):
            return pd.StringDtype()
        return None

    for index, column_field in enumerate(table.schema):
        if pa.types.is_decimal(column_field.type) and column_field.type.scale == 0:
            table = table.set_column(index, column_field.name, table.column(index).cast(pa.int64()))
    frame: pd.DataFrame = table.to_pandas(types_mapper=dtype_for)
    return frame


class WarehouseError(RuntimeError):
    """The warehouse cannot run a query; the message is the engine's, plus the setting to check."""


@dataclass(frozen=True)
class QueryResult:
    """A query's rows, and what ran it: every page says which engine answered and how long it took."""

    frame: pd.DataFrame
    engine: str
    elapsed_ms: float
    sql: str


class Warehouse(ABC):
    """A SQL engine over the Parquet fact tables."""

    #: Short engine name shown on pages ("duckdb", "presto", "trino").
    engine: str = ""
    #: sqlglot dialect the engine's SQL is written in.
    dialect: str = ""

    @classmethod
    def options_check(cls, options: Mapping[str, Any]) -> None:
        """Raise WarehouseError when `options` (a WAREHOUSES alias's OPTIONS) cannot work; never connects."""
        cls.from_options(options).close()

    @classmethod
    @abstractmethod
    def from_options(cls, options: Mapping[str, Any]) -> Warehouse:
        """A backend configured from a WAREHOUSES alias's OPTIONS."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Rows of `sql` (in this engine's dialect) with `?`s bound to `params`, typed as frame_from_arrow.

        Raises WarehouseError with the engine's message when the query cannot run.
        """

    def refresh(self) -> None:
        """Make partitions written since the last call visible to queries (a no-op where reads are live)."""
        return None

    def close(self) -> None:
        """Release connections."""
        return None

    def query(self, name: str, **params: Any) -> QueryResult:
        """Run the named query of storage.warehouse.queries with its parameters bound, timed."""
        from storage.warehouse.queries import render

        sql, values = render(name, self.dialect, params)
        started = time.perf_counter()
        frame = self.execute(sql, values)
        return QueryResult(
            frame=frame, engine=self.engine, elapsed_ms=(time.perf_counter() - started) * 1000, sql=sql
        )
