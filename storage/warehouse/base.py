"""The warehouse interface: named queries written once in the Presto dialect, returning DataFrames."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd


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

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run `sql` (already in this engine's dialect) with `?` placeholders bound to `params`."""

    def refresh(self) -> None:
        """Make partitions written since the last call visible to queries (a no-op where reads are live)."""

    def close(self) -> None:
        """Release connections."""

    def query(self, name: str, **params: Any) -> QueryResult:
        """Run the named query of storage.warehouse.queries with its parameters bound, timed."""
        from storage.warehouse.queries import render

        sql, values = render(name, self.dialect, params)
        started = time.perf_counter()
        frame = self.execute(sql, values)
        return QueryResult(frame=frame, engine=self.engine, elapsed_ms=(time.perf_counter() - started) * 1000, sql=sql)
