"""`manage.py ingest PATH… [--dataset NAME] [--format auto|jsonl|csv|parquet|city] [--warehouse-gps]
[--no-progress]`: load log files into both stores and print what happened to every row."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipeline.ingest import IngestError, IngestSummary
from pipeline.readers import FORMATS
from pipeline.services import logs_load


def summary_table(summary: IngestSummary) -> list[str]:
    """The load's counts as aligned text lines: one row per file, then the total."""
    header = ("file", "kind", "read", "stored", "duplicate", "quarantined")
    rows: list[tuple[str, ...]] = [
        (str(f.path), f.kind, str(f.read), str(f.stored), str(f.duplicates), str(f.quarantined))
        for f in summary.files
    ]
    rows.append(
        (
            "total",
            "",
            str(summary.read),
            str(summary.stored),
            str(summary.duplicates),
            str(summary.quarantined),
        )
    )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        text = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        text += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:], strict=True)]
        return "  ".join(text).rstrip()

    return [line(header), *(line(row) for row in rows)]


class Command(BaseCommand):
    help = (
        "Load GPS (Parquet, CSV, JSONL) and event (JSONL) logs into the track store and the warehouse, "
        "and city documents (roads.json) into the track store."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="input files")
        parser.add_argument("--dataset", default="default", help="dataset of rows without a dataset field")
        parser.add_argument("--format", dest="fmt", default="auto", choices=FORMATS, help="input format")
        parser.add_argument(
            "--warehouse-gps", action="store_true", help="also write GPS fixes to the warehouse"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
        parser.add_argument(
            "--rebuild-warehouse",
            action="store_true",
            help="delete the dataset's event tables in the warehouse and rewrite them from these files",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        progress = not options["no_progress"] and sys.stderr.isatty()
        try:
            report = logs_load(
                paths=options["paths"],
                dataset=options["dataset"],
                fmt=options["fmt"],
                warehouse_gps=options["warehouse_gps"],
                progress=progress,
                rebuild_warehouse=options["rebuild_warehouse"],
            )
        except IngestError as exc:
            raise CommandError(str(exc)) from None
        summary = report.summary
        for text in summary_table(summary):
            self.stdout.write(text)
        for f in summary.files:
            if f.quarantine_path is not None:
                self.stdout.write(f"quarantined {f.quarantined} row(s) of {f.path.name}: {f.quarantine_path}")
        if report.warehouse_problem:
            self.stderr.write(
                f"loaded, but the warehouse could not register the new partitions: {report.warehouse_problem}"
            )
