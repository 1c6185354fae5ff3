"""`manage.py warehouse_ddl --engine presto|trino`: print the DDL making the Parquet a Hive catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from storage.warehouse.ddl import ENGINES, ddl_render, local_location

_DEFAULT_CATALOG = "hive"
_DEFAULT_SCHEMA = "dispatch"


class Command(BaseCommand):
    # Pure text generation: no database, URLs or models are involved, so no system checks are needed.
    requires_system_checks: list[str] = []  # noqa: RUF012 - Django's documented spelling
    help = (
        "Print CREATE SCHEMA / CREATE TABLE … WITH (external_location, format='PARQUET', partitioned_by) "
        "for every fact table, the partition-sync CALLs and the jobs view, for a Presto or Trino Hive "
        "catalog. Prints only; run the output with the engine's CLI."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--engine", required=True, choices=ENGINES, help="SQL engine the DDL is for")
        parser.add_argument(
            "--location",
            help="the warehouse root as the engine's workers see it: s3://…, hdfs://…, local:///… "
            "(default: WAREHOUSE_ROOT as the engine reads a local directory: local:///… for Trino, "
            "file:///… for Presto)",
        )
        parser.add_argument(
            "--catalog", help=f"Hive catalog (default: the WAREHOUSE setting's, else {_DEFAULT_CATALOG})"
        )
        parser.add_argument(
            "--schema", help=f"schema to create (default: the WAREHOUSE setting's, else {_DEFAULT_SCHEMA})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        configured: dict[str, Any] = settings.WAREHOUSES["default"].get("OPTIONS", {})
        location = options["location"] or local_location(
            engine=options["engine"], path=Path(settings.WAREHOUSE_ROOT)
        )
        catalog = options["catalog"] or configured.get("catalog") or _DEFAULT_CATALOG
        schema = options["schema"] or configured.get("schema") or _DEFAULT_SCHEMA
        try:
            script = ddl_render(engine=options["engine"], location=location, catalog=catalog, schema=schema)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(script, ending="")
