"""The DDL that makes the Parquet fact tables a Presto or Trino Hive catalog, without moving a file.

Layout it maps: `<location>/<table>/dataset=<ds>/dt=<YYYY-MM-DD>/city=<city>/part-<hash>.parquet` becomes the
external table `<catalog>.<schema>.<table>` (file columns of TABLE_SCHEMAS, then the VARCHAR partition columns
`dataset`, `dt`, `city`, last and in path order as the Hive connector requires), its partitions are registered
with `system.sync_partition_metadata`, and `<catalog>.<schema>.jobs` is the view of sql/jobs_view.sql with
its table names qualified (a view resolves names in the session that created it). Pure: text in, text out.

A local warehouse (a directory on this machine) is named the way each engine's Hive connector reads it
(`local_location`): Trino's native local file system takes `local:///<absolute path>` (catalog properties
`fs.native-local.enabled=true`, `local.location=/`), while PrestoDB's Hadoop file system takes
`file:///<absolute path>`. Trino 476 also accepts `file://` in the DDL but then lists no files, so its tables
read empty. The schema of a local warehouse gets no location: its tables are all external, and Presto's file
metastore refuses a schema location.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlglot
from sqlglot import exp

from storage.warehouse.queries import query_get
from storage.warehouse.schema import PARTITION_COLUMNS, TABLE_SCHEMAS, TABLES, column_sql_type

#: Engines the DDL can be written for.
ENGINES: tuple[str, ...] = ("presto", "trino")
_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LABELS = {"presto": "Presto", "trino": "Trino"}


def _identifier_check(kind: str, name: str) -> str:
    """`name` lower-cased, as Presto and Trino store unquoted identifiers; ValueError unless plain."""
    if not _IDENTIFIER_RE.fullmatch(name):
        raise ValueError(f"{kind} {name!r} must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)")
    return name.lower()


def _string(text: str, *, engine: str) -> str:
    """`text` as a SQL string literal of `engine` (quotes doubled by sqlglot)."""
    return exp.Literal.string(text).sql(dialect=engine)


def local_location(*, engine: str, path: Path) -> str:
    """The URI under which `engine`'s Hive connector reads the local directory `path` (see the module)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    # Neither connector percent-decodes these URIs, so the path goes in as it is.
    absolute = path.resolve().as_posix()
    return f"local://{absolute}" if engine == "trino" else f"file://{absolute}"


def _is_local(location: str) -> bool:
    return location.startswith(("/", "file:", "local:"))


def ddl_statements(*, engine: str, location: str, catalog: str, schema: str) -> tuple[str, ...]:
    """Every statement, in run order, each without its terminating semicolon.

    CREATE SCHEMA (with a location unless the warehouse is local), then per table CREATE TABLE … WITH
    (external_location, format='PARQUET', partitioned_by) and its partition sync CALL, then CREATE OR
    REPLACE VIEW jobs. ValueError on an unknown engine, a catalog/schema that is not a plain identifier,
    or a location that is not a URI or absolute path.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    catalog = _identifier_check("catalog", catalog)
    schema = _identifier_check("schema", schema)
    root = location.rstrip("/")
    if not root or not (root.startswith("/") or re.match(r"[a-z][a-z0-9+.-]*://", root)):
        raise ValueError(
            f"location {location!r} must be a URI (s3://…, hdfs://…, local:///…, file:///…) "
            "or an absolute path"
        )
    if any(ord(char) < 32 for char in root):
        raise ValueError("location must not contain control characters")

    qualified = f"{catalog}.{schema}"
    create_schema = f"CREATE SCHEMA IF NOT EXISTS {qualified}"
    if not _is_local(root):
        create_schema += f" WITH (location = {_string(root, engine=engine)})"
    statements = [create_schema]
    partitioned_by = ", ".join(_string(name, engine=engine) for name in PARTITION_COLUMNS)
    for table in TABLES:
        columns = [f"    {field.name} {column_sql_type(field.type)}" for field in TABLE_SCHEMAS[table]]
        columns += [f"    {name} varchar" for name in PARTITION_COLUMNS]
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {qualified}.{table} (\n"
            + ",\n".join(columns)
            + "\n)\nWITH (\n"
            + f"    external_location = {_string(f'{root}/{table}', engine=engine)},\n"
            + "    format = 'PARQUET',\n"
            + f"    partitioned_by = ARRAY[{partitioned_by}]\n)"
        )
        arguments = ", ".join(_string(text, engine=engine) for text in (schema, table, "FULL"))
        statements.append(f"CALL {catalog}.system.sync_partition_metadata({arguments})")
    view = jobs_view_sql(engine=engine, catalog=catalog, schema=schema)
    statements.append(f"CREATE OR REPLACE VIEW {qualified}.jobs AS\n{view}")
    return tuple(statements)


def jobs_view_sql(*, engine: str, catalog: str, schema: str) -> str:
    """sql/jobs_view.sql in `engine`'s dialect, every fact-table name qualified as catalog.schema.table."""
    tree = sqlglot.parse_one(query_get("jobs_view").presto_sql, read="presto")
    for table in tree.find_all(exp.Table):
        if table.name in TABLES and not table.args.get("db"):
            table.set("db", exp.to_identifier(schema))
            table.set("catalog", exp.to_identifier(catalog))
    return tree.sql(dialect=engine, pretty=True, comments=False)


def ddl_render(*, engine: str, location: str, catalog: str, schema: str) -> str:
    """The DDL script: a header comment, then every statement of ddl_statements ending in `;`."""
    statements = ddl_statements(engine=engine, location=location, catalog=catalog, schema=schema)
    label = _LABELS[engine]
    qualified = f"{catalog}.{schema}".lower()
    header = (
        f"-- Dispatchscope warehouse for {label}: the Hive-partitioned Parquet under {location.rstrip('/')}\n"
        f"-- as {qualified}. Safe to run again. Partitions written later become visible after the\n"
        f"-- sync_partition_metadata CALLs run again (the {engine} backend's refresh() runs them).\n"
    )
    return header + "\n" + "\n\n".join(f"{statement};" for statement in statements) + "\n"
