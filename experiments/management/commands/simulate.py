"""`manage.py simulate`: run the dispatch simulator and write (optionally load) its logs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from experiments.services import ManifestError, RunLoad, RunToLoad, simulation_load
from pipeline.ingest import IngestError
from playback.services import IncidentError
from simulator.batch import simulate
from simulator.city import CityError
from simulator.designs import DESIGNS
from simulator.scenarios import (
    SCENARIO_DESCRIPTIONS,
    SCENARIO_NAMES,
    ScenarioError,
)
from simulator.strategies.registry import (
    DEFAULT_STRATEGIES,
    UnknownStrategyError,
    strategy_names,
    strategy_variants,
)
from simulator.writer import RunFiles


class Command(BaseCommand):
    help = "Simulate dispatch on a scenario and write the logs of DESIGN §4 (one dataset per strategy)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="show scenarios and strategies, then exit")
        parser.add_argument("--scenario", choices=SCENARIO_NAMES, default="food-delivery")
        parser.add_argument(
            "--strategies",
            default="nearest,hungarian",
            help="comma-separated strategy names, or `all-variants` for the 104 grid variants",
        )
        parser.add_argument("--design", choices=DESIGNS, default="paired")
        parser.add_argument("--hours", type=float, default=None)
        parser.add_argument(
            "--couriers", type=int, default=None, help="couriers (food) or bikes (bike-sharing)"
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, default=Path("var/sim"))
        parser.add_argument("--workers", type=int, default=1, help="processes for paired runs")
        parser.add_argument(
            "--geojson", type=Path, default=None, help="road graph to use instead of a generated city"
        )
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="any scenario parameter, e.g. --param gps.hz=0.2 --param city.bridges=2 (repeatable)",
        )
        parser.add_argument("--load", action="store_true", help="send the output through the ingest pipeline")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            self._list()
            return
        scenario: str = options["scenario"]
        raw = [s.strip() for s in str(options["strategies"]).split(",") if s.strip()]
        names = list(strategy_variants()) if raw == ["all-variants"] else raw
        overrides: dict[str, Any] = {"seed": options["seed"]}
        if options["hours"] is not None:
            overrides["hours"] = options["hours"]
        if options["couriers"] is not None:
            overrides["couriers" if scenario == "food-delivery" else "bikes"] = options["couriers"]
        for item in options["param"]:
            key, sep, value = str(item).partition("=")
            if not sep:
                raise CommandError(f"--param {item!r} is not KEY=VALUE")
            overrides[key.strip()] = value.strip()
        bar = None if options["no_progress"] else tqdm(total=1000, desc="simulate", unit="‰")

        def progress(fraction: float) -> None:
            if bar is not None:
                bar.update(max(0, round(fraction * 1000) - bar.n))

        try:
            output = simulate(
                scenario=scenario,
                strategies=names,
                out_dir=options["out"],
                design=options["design"],
                overrides=overrides,
                workers=options["workers"],
                geojson=options["geojson"],
                progress=progress,
            )
        except (ScenarioError, UnknownStrategyError, CityError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar is not None:
                bar.close()
        for run in output.runs:
            self.stdout.write(
                f"{run.dataset}: {run.events} events, {run.gps_points} GPS points → {run.events_path.parent}"
            )
        for row in output.rows:
            failed = f", {row.failed_rounds} failed rounds ({row.failures})" if row.failed_rounds else ""
            mean = "-" if row.mean_delivery_min is None else f"{row.mean_delivery_min:.1f} min"
            self.stdout.write(
                f"  {row.dataset} [{row.strategy}]: {row.delivered}/{row.jobs} done, mean {mean}{failed}"
            )
        self.stdout.write(f"summary: {output.summary_path}")
        if options["load"]:
            self._load(output.runs, progress=not options["no_progress"] and sys.stderr.isatty())

    def _load(self, runs: Sequence[RunFiles], *, progress: bool) -> None:
        def report(load: RunLoad) -> None:
            s = load.summary
            self.stdout.write(
                f"loaded {load.dataset}: read {s.read}, stored {s.stored}, "
                f"duplicates {s.duplicates}, quarantined {s.quarantined}"
            )
            self.stdout.write(
                f"recorded {load.dataset}: {load.incidents_new} new incidents "
                f"({load.incidents_listed} in the manifest)"
            )

        to_load = [
            RunToLoad(
                dataset=r.dataset,
                events_path=r.events_path,
                gps_path=r.gps_path,
                incidents_path=r.incidents_path,
            )
            for r in runs
        ]
        try:
            done = simulation_load(runs=to_load, progress=progress, on_run=report)
        except (IngestError, ManifestError, IncidentError) as exc:
            raise CommandError(f"loading the simulated runs failed: {exc}") from None
        if done.warehouse_problem:
            self.stderr.write(
                f"loaded, but the warehouse could not register the new partitions: {done.warehouse_problem}"
            )

    def _list(self) -> None:
        self.stdout.write("scenarios:")
        for scenario in SCENARIO_NAMES:
            self.stdout.write(f"  {scenario}: {SCENARIO_DESCRIPTIONS[scenario]}")
        self.stdout.write(f"designs: {', '.join(DESIGNS)}")
        self.stdout.write(f"strategies (defaults): {', '.join(DEFAULT_STRATEGIES)}")
        variants = strategy_variants()
        self.stdout.write(f"grid variants ({len(variants)}, `--strategies all-variants`):")
        for name in variants:
            self.stdout.write(f"  {name}")
        extra = [n for n in strategy_names() if n not in variants and n not in DEFAULT_STRATEGIES]
        if extra:
            self.stdout.write(f"registered: {', '.join(extra)}")
