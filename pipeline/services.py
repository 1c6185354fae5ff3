"""Loads into the configured stores: the one place ingest meets settings, for commands and other services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from pipeline.ingest import IngestSummary, ingest_paths, warehouse_partitions_register
from storage.connections import track_stores, warehouses


@dataclass(frozen=True)
class LoadReport:
    """What a load into the configured stores did, and why the warehouse could not see it yet, if so."""

    summary: IngestSummary
    warehouse_problem: str | None


def logs_ingest(
    *,
    paths: Sequence[Path],
    dataset: str = "default",
    fmt: str = "auto",
    warehouse_gps: bool = False,
    progress: bool = False,
    rebuild_warehouse: bool = False,
) -> IngestSummary:
    """Load `paths` into the configured track store and warehouse files (IngestError as ingest_paths)."""
    return ingest_paths(
        paths,
        track_store=track_stores["default"],
        warehouse_root=Path(settings.WAREHOUSE_ROOT),
        quarantine_dir=Path(settings.QUARANTINE_DIR),
        dataset=dataset,
        fmt=fmt,
        warehouse_gps=warehouse_gps,
        progress=progress,
        rebuild_warehouse=rebuild_warehouse,
    )


def warehouse_refresh() -> str | None:
    """Make every load so far visible to the configured warehouse; its message when it cannot."""
    return warehouse_partitions_register(warehouses["default"])


def logs_load(
    *,
    paths: Sequence[Path],
    dataset: str = "default",
    fmt: str = "auto",
    warehouse_gps: bool = False,
    progress: bool = False,
    rebuild_warehouse: bool = False,
) -> LoadReport:
    """Ingest `paths` into the configured stores, then register what it wrote with the warehouse."""
    summary = logs_ingest(
        paths=paths,
        dataset=dataset,
        fmt=fmt,
        warehouse_gps=warehouse_gps,
        progress=progress,
        rebuild_warehouse=rebuild_warehouse,
    )
    return LoadReport(summary=summary, warehouse_problem=warehouse_refresh())
