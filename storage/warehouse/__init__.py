"""SQL warehouse backends (DuckDB embedded, Presto or Trino on a cluster) over Hive-partitioned Parquet."""
