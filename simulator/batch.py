"""Many runs at once: one dataset per strategy (paired design) or one multi-strategy dataset (ab, switchback),
optionally on several worker processes, plus the summary table `<out>/summary.parquet`.

Workers only change wall-clock time: every run depends on its seed, scenario and strategy alone, so the files
are byte-identical whatever `workers` is.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.city import City, city_from_geojson
from simulator.designs import DESIGNS, Design, dataset_name
from simulator.metrics import SummaryRow, summary_rows, summary_write
from simulator.registry import scenario_run
from simulator.scenarios import ScenarioParams, scenario_params_build
from simulator.strategies.registry import strategy_build
from simulator.writer import RunFiles, run_write

SUMMARY_FILE = "summary.parquet"


@dataclass(frozen=True)
class SimulationOutput:
    """What a simulation wrote: one RunFiles per dataset, the summary rows and the summary table's path."""

    out_dir: Path
    runs: tuple[RunFiles, ...]
    rows: tuple[SummaryRow, ...]
    summary_path: Path


@dataclass(frozen=True)
class _Task:
    scenario: str
    params: ScenarioParams
    strategies: tuple[str, ...]
    design: Design
    dataset: str
    out_dir: Path
    geojson: Path | None


_GEOJSON_CITIES: dict[Path, City] = {}


def _city_of(task: _Task) -> City | None:
    if task.geojson is None:
        return None
    if task.geojson not in _GEOJSON_CITIES:
        _GEOJSON_CITIES[task.geojson] = city_from_geojson(
            path=task.geojson, name=task.params.city.name, utc_offset_h=task.params.city.utc_offset_h
        )
    return _GEOJSON_CITIES[task.geojson]


def _task_run(
    task: _Task, progress: Callable[[float], None] | None = None
) -> tuple[RunFiles, list[SummaryRow]]:
    strategies = {name: strategy_build(name) for name in task.strategies}
    result = scenario_run(
        params=task.params,
        strategies=strategies,
        design=task.design,
        dataset=task.dataset,
        city=_city_of(task),
        progress=progress,
    )
    files = run_write(result=result, out_dir=task.out_dir, gps=task.params.gps)
    return files, summary_rows(result=result, gps_points=files.gps_points)


def _task_run_plain(task: _Task) -> tuple[RunFiles, list[SummaryRow]]:
    return _task_run(task)


def simulate(
    *,
    scenario: str,
    strategies: Sequence[str],
    out_dir: Path,
    design: Design = "paired",
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    geojson: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> SimulationOutput:
    """Run `strategies` on `scenario` and write every dataset plus the summary table under `out_dir`.

    Raises ScenarioError for bad parameters, UnknownStrategyError for an unknown strategy, before running."""
    if design not in DESIGNS:
        raise ValueError(f"unknown design {design!r}; valid designs: {', '.join(DESIGNS)}")
    params = scenario_params_build(name=scenario, overrides=overrides)
    names = tuple(dict.fromkeys(strategies))
    if not names:
        raise ValueError("give at least one strategy")
    for name in names:
        strategy_build(name)
    if design != "paired" and len(names) < 2:
        raise ValueError(f"the {design} design compares strategies: give at least two")
    out_dir.mkdir(parents=True, exist_ok=True)
    if design == "paired":
        tasks = [
            _Task(
                scenario,
                params,
                (n,),
                design,
                dataset_name(scenario=scenario, strategy_or_design=n, seed=params.seed),
                out_dir,
                geojson,
            )
            for n in names
        ]
    else:
        tasks = [
            _Task(
                scenario,
                params,
                names,
                design,
                dataset_name(scenario=scenario, strategy_or_design=design, seed=params.seed),
                out_dir,
                geojson,
            )
        ]
    results: list[tuple[RunFiles, list[SummaryRow]]] = []
    if workers > 1 and len(tasks) > 1:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with multiprocessing.get_context(method).Pool(processes=workers) as pool:
            for k, item in enumerate(pool.imap(_task_run_plain, tasks)):
                results.append(item)
                if progress is not None:
                    progress((k + 1) / len(tasks))
    else:
        for k, task in enumerate(tasks):

            def step(fraction: float, k: int = k) -> None:
                if progress is not None:
                    progress((k + fraction) / len(tasks))

            results.append(_task_run(task, step))
    rows = tuple(row for _, task_rows in results for row in task_rows)
    summary_path = out_dir / SUMMARY_FILE
    summary_write(rows=rows, path=summary_path)
    if progress is not None:
        progress(1.0)
    return SimulationOutput(
        out_dir=out_dir, runs=tuple(files for files, _ in results), rows=rows, summary_path=summary_path
    )
