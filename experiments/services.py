"""Simulated runs into the stores: ingest each run's logs, record its incident manifest, register partitions.

`manage.py simulate --load` and `manage.py demo_setup` both load through `simulation_load`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from pipeline.ingest import IngestSummary
from pipeline.services import logs_ingest, warehouse_refresh
from playback.services import incidents_record


@dataclass(frozen=True)
class RunToLoad:
    """One simulated run's files and the dataset they go into."""

    dataset: str
    events_path: Path
    gps_path: Path
    incidents_path: Path
    #: The run's city document; None: `roads.json` beside the events when there is one.
    roads_path: Path | None = None

    def roads(self) -> Path | None:
        """The city document to load with the run, if it has one."""
        path = self.roads_path or self.events_path.with_name("roads.json")
        return path if path.is_file() else None


@dataclass(frozen=True)
class RunLoad:
    """What loading one run did: the ingest summary, the incident manifest, how many incidents were new."""

    dataset: str
    summary: IngestSummary
    manifest: dict[str, Any]
    incidents_new: int

    @property
    def incidents_listed(self) -> int:
        """Incidents in the run's manifest."""
        return len(self.manifest.get("incidents", []))


@dataclass(frozen=True)
class SimulationLoad:
    """Every run's load, and why the warehouse could not see them yet, if so."""

    runs: tuple[RunLoad, ...]
    warehouse_problem: str | None


class ManifestError(ValueError):
    """A run's incident manifest is missing or not a manifest."""


def manifest_read(path: Path) -> dict[str, Any]:
    """A run's incident manifest (`counts` per kind, `incidents` worst first within a kind)."""
    try:
        manifest = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ManifestError(f"{path} cannot be read as an incident manifest: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("incidents", []), list):
        raise ManifestError(f"{path} is not an incident manifest")
    return manifest


def simulation_load(
    *,
    runs: Sequence[RunToLoad],
    progress: bool = False,
    on_run: Callable[[RunLoad], None] | None = None,
) -> SimulationLoad:
    """Load every run into the configured stores and record its incidents; re-loading stores nothing twice.

    Raises IngestError, ManifestError or IncidentError for the first run that cannot be loaded (the runs
    before it stay loaded)."""
    loads: list[RunLoad] = []
    for run in runs:
        roads = run.roads()
        paths = [run.events_path, run.gps_path, *([roads] if roads is not None else [])]
        summary = logs_ingest(paths=paths, dataset=run.dataset, progress=progress)
        manifest = manifest_read(run.incidents_path)
        new = incidents_record(dataset=run.dataset, incidents=manifest.get("incidents", []))
        load = RunLoad(dataset=run.dataset, summary=summary, manifest=manifest, incidents_new=new)
        loads.append(load)
        if on_run is not None:
            on_run(load)
    return SimulationLoad(runs=tuple(loads), warehouse_problem=warehouse_refresh())
