"""`manage.py demo_setup --out DIR [--seed 7] [--couriers 300] [--hours 3] [--workers 2] [--dataset demo]
[--username demo] [--password …]`.

Simulates a demo day (food delivery; the Hungarian, greedy-by-ETA and nearest dispatchers on the same orders)
into DIR unless this seed and size are already there, loads each run into its own dataset (Hungarian into
`--dataset`, the others into `<dataset>-greedy` and `<dataset>-nearest`; re-running stores nothing twice),
records every run's incident manifest for the landing page, creates or resets the demo login, and prints where
to go and which ids to search. The demo day itself is dashboard/demo.py.
"""

from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.demo import (
    DEMO_COURIERS,
    DEMO_HOURS,
    DEMO_SEED,
    DEMO_STRATEGIES,
    demo_banner,
    demo_day_read,
    demo_day_simulate,
    demo_login_set,
    demo_runs_to_load,
)
from experiments.services import ManifestError, RunLoad, simulation_load
from pipeline.ingest import IngestError, IngestSummary
from playback.services import IncidentError
from simulator.scenarios import ScenarioError


def _load_lines(dataset: str, summary: IngestSummary) -> list[str]:
    lines = [
        f"loaded {f.path.name} into {dataset}: read {f.read:,}, stored {f.stored:,}, "
        f"duplicate {f.duplicates:,}, quarantined {f.quarantined:,}"
        for f in summary.files
    ]
    if summary.stored == 0 and summary.read:
        lines.append(f"{dataset} was already loaded: nothing new was stored")
    return lines


class Command(BaseCommand):
    help = "Simulate and load a demo day, record its incidents, create the demo login, print how to explore."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="directory for the simulator's files")
        parser.add_argument(
            "--seed", type=int, default=DEMO_SEED, help=f"simulator seed (default {DEMO_SEED})"
        )
        parser.add_argument(
            "--couriers", type=int, default=DEMO_COURIERS, help=f"couriers (default {DEMO_COURIERS})"
        )
        parser.add_argument(
            "--hours", type=float, default=DEMO_HOURS, help=f"hours of orders (default {DEMO_HOURS:g})"
        )
        parser.add_argument(
            "--workers", type=int, default=2, help="processes that simulate the runs side by side (default 2)"
        )
        parser.add_argument(
            "--dataset",
            default="demo",
            help="dataset of the Hungarian run; the others go to <dataset>-greedy, <dataset>-nearest",
        )
        parser.add_argument("--username", default="demo", help="login to create or reset (default demo)")
        parser.add_argument("--password", default=None, help="password for the login (default: a random one)")

    def handle(self, *args: Any, **options: Any) -> None:
        out_dir: Path = options["out"]
        seed: int = options["seed"]
        couriers: int = options["couriers"]
        hours: float = options["hours"]
        dataset: str = options["dataset"]
        started = time.perf_counter()

        day = demo_day_read(out_dir=out_dir, seed=seed, couriers=couriers, hours=hours)
        if day is None:
            self.stdout.write(
                f"simulating the demo day (seed {seed}, {couriers} couriers, {hours:g} h; "
                f"{', '.join(DEMO_STRATEGIES)}) into {out_dir} …"
            )
            try:
                day = demo_day_simulate(
                    out_dir=out_dir,
                    seed=seed,
                    couriers=couriers,
                    hours=hours,
                    workers=max(1, options["workers"]),
                )
            except (ScenarioError, ValueError) as exc:
                raise CommandError(f"simulating the demo day failed: {exc}") from None
        else:
            self.stdout.write(
                f"reusing the demo day (seed {seed}, {couriers} couriers, {hours:g} h) in {day.folder}"
            )
        simulated = time.perf_counter()

        def report(load: RunLoad) -> None:
            for line in _load_lines(load.dataset, load.summary):
                self.stdout.write(line)
            if load.summary.quarantined:
                self.stderr.write(
                    f"warning: {load.summary.quarantined} row(s) of {load.dataset} were quarantined; see "
                    + ", ".join(str(f.quarantine_path) for f in load.summary.files if f.quarantine_path)
                )
            self.stdout.write(
                f"recorded {load.incidents_new} new incident(s) of {load.dataset} "
                f"({load.incidents_listed} in its manifest)"
            )

        try:
            done = simulation_load(
                runs=demo_runs_to_load(day=day, dataset=dataset), progress=sys.stderr.isatty(), on_run=report
            )
        except (IngestError, ManifestError, IncidentError) as exc:
            raise CommandError(f"loading the demo day failed: {exc}") from None
        if done.warehouse_problem:
            self.stderr.write(
                f"warning: the warehouse could not register the new partitions: {done.warehouse_problem}"
            )
        manifests = [(load.dataset, load.manifest) for load in done.runs]
        loaded = time.perf_counter()

        password = options["password"] or secrets.token_urlsafe(9)
        created, groups = demo_login_set(username=options["username"], password=password)
        self.stdout.write(f"{'created' if created else 'reset'} the login {options['username']!r}")
        self.stdout.write(
            f"demo data ready in {loaded - started:.1f} s "
            f"(simulate {simulated - started:.1f} s, load and record {loaded - simulated:.1f} s)"
        )
        for line in demo_banner(
            day=day,
            dataset=dataset,
            manifests=manifests,
            username=options["username"],
            password=password,
            groups=groups,
        ):
            self.stdout.write(line)
