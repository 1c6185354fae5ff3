"""The demo day: a simulated food-delivery lunch, reused while its seed and size match, and what to try.

Layout of the output directory: `food-delivery-seed<seed>-c<couriers>-h<hours>/` holds the simulator's
output (one folder per run, `summary.parquet`) and `demo-day.json`, written last, which says the output is
complete and reusable. The first strategy's run is loaded into the demo dataset itself, the others into
`<dataset>-<strategy>`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from experiments.services import RunToLoad
from playback.services import incident_describe
from simulator.batch import simulate

DEMO_URL = "http://127.0.0.1:8000"
#: The roles a demo login gets, where the groups migration created them.
DEMO_GROUPS = ("ops", "analyst")
DEMO_SCENARIO = "food-delivery"
#: The first strategy's run is loaded into `--dataset` itself, the one the search box preselects.
DEMO_STRATEGIES = ("hungarian", "greedy", "nearest")
#: Sized so that simulating and loading the three runs takes well under two minutes on two cores (~40 s).
DEMO_COURIERS = 300
DEMO_HOURS = 3.0
DEMO_SEED = 7
STAMP_FILE = "demo-day.json"
#: Bumped when the layout of the stamp (or what a run folder holds) changes, so old output is not reused.
STAMP_VERSION = 2
INCIDENT_KINDS = (
    ("late", "late"),
    ("redispatched", "re-dispatched"),
    ("cross_river", "cross-river"),
    ("gps_jump", "GPS jumps"),
)


@dataclass(frozen=True)
class DemoRun:
    """One strategy's simulated day: its files and sizes."""

    strategy: str
    folder: Path
    events: int
    gps_points: int

    @property
    def events_path(self) -> Path:
        """The run's `events.jsonl`."""
        return self.folder / "events.jsonl"

    @property
    def gps_path(self) -> Path:
        """The run's `gps.parquet`."""
        return self.folder / "gps.parquet"

    @property
    def incidents_path(self) -> Path:
        """The run's incident manifest, `incidents.json`."""
        return self.folder / "incidents.json"


@dataclass(frozen=True)
class DemoDay:
    """The simulator output of one seed and size, reused as long as its stamp matches."""

    folder: Path
    seed: int
    couriers: int
    hours: float
    runs: tuple[DemoRun, ...]


@dataclass(frozen=True)
class Example:
    """An id worth searching, the dataset it is in and why it is interesting."""

    query: str
    dataset: str
    why: str


def demo_folder(*, out_dir: Path, seed: int, couriers: int, hours: float) -> Path:
    """Where the output of this seed and size lives under `out_dir` (sizes never overwrite each other)."""
    return out_dir / f"{DEMO_SCENARIO}-seed{seed}-c{couriers}-h{hours:g}"


def _stamp(*, seed: int, couriers: int, hours: float) -> dict[str, Any]:
    return {
        "version": STAMP_VERSION,
        "scenario": DEMO_SCENARIO,
        "seed": seed,
        "couriers": couriers,
        "hours": hours,
        "strategies": list(DEMO_STRATEGIES),
    }


def demo_day_read(*, out_dir: Path, seed: int, couriers: int, hours: float) -> DemoDay | None:
    """The complete output of this seed and size under `out_dir`, or None when it must be simulated."""
    folder = demo_folder(out_dir=out_dir, seed=seed, couriers=couriers, hours=hours)
    try:
        stamp = orjson.loads((folder / STAMP_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    expected = _stamp(seed=seed, couriers=couriers, hours=hours)
    if not isinstance(stamp, dict) or {k: stamp.get(k) for k in expected} != expected:
        return None
    runs = tuple(
        DemoRun(
            strategy=str(run["strategy"]),
            folder=folder / str(run["folder"]),
            events=int(run["events"]),
            gps_points=int(run["gps_points"]),
        )
        for run in stamp.get("runs", [])
    )
    if len(runs) != len(DEMO_STRATEGIES):
        return None
    if not all(p.is_file() for r in runs for p in (r.events_path, r.gps_path, r.incidents_path)):
        return None
    return DemoDay(folder=folder, seed=seed, couriers=couriers, hours=hours, runs=runs)


def demo_day_simulate(
    *,
    out_dir: Path,
    seed: int,
    couriers: int,
    hours: float,
    workers: int,
    progress: Callable[[float], None] | None = None,
) -> DemoDay:
    """Simulate the demo day of this seed and size into its folder under `out_dir` and stamp it complete."""
    folder = demo_folder(out_dir=out_dir, seed=seed, couriers=couriers, hours=hours)
    (folder / STAMP_FILE).unlink(missing_ok=True)
    output = simulate(
        scenario=DEMO_SCENARIO,
        strategies=DEMO_STRATEGIES,
        out_dir=folder,
        design="paired",
        overrides={"seed": seed, "couriers": couriers, "hours": hours},
        workers=workers,
        progress=progress,
    )
    runs = tuple(
        DemoRun(
            strategy=strategy,
            folder=files.events_path.parent,
            events=files.events,
            gps_points=files.gps_points,
        )
        for strategy, files in zip(DEMO_STRATEGIES, output.runs, strict=True)
    )
    stamp = _stamp(seed=seed, couriers=couriers, hours=hours) | {
        "runs": [
            {"strategy": r.strategy, "folder": r.folder.name, "events": r.events, "gps_points": r.gps_points}
            for r in runs
        ]
    }
    # Written last: a simulation that stopped half-way leaves no stamp and is redone, never reused.
    (folder / STAMP_FILE).write_bytes(orjson.dumps(stamp, option=orjson.OPT_INDENT_2))
    return DemoDay(folder=folder, seed=seed, couriers=couriers, hours=hours, runs=runs)


def demo_dataset(*, dataset: str, strategy: str) -> str:
    """The dataset a run is loaded into: `dataset` for the first demo strategy, `dataset-<strategy>` else."""
    return dataset if strategy == DEMO_STRATEGIES[0] else f"{dataset}-{strategy}"


def demo_runs_to_load(*, day: DemoDay, dataset: str) -> list[RunToLoad]:
    """The demo day's runs with the dataset each is loaded into."""
    return [
        RunToLoad(
            dataset=demo_dataset(dataset=dataset, strategy=run.strategy),
            events_path=run.events_path,
            gps_path=run.gps_path,
            incidents_path=run.incidents_path,
        )
        for run in day.runs
    ]


def demo_examples(*, manifests: Sequence[tuple[str, Mapping[str, Any]]]) -> list[Example]:
    """Ids to try, from the first manifest that has each: a re-dispatched order, a late order, a courier."""

    def first(kind: str) -> tuple[str, Mapping[str, Any]] | None:
        for dataset, manifest in manifests:
            for item in manifest.get("incidents", []):
                if item.get("kind") == kind and item.get("jobs") and item.get("entity"):
                    return dataset, item
        return None

    examples: list[Example] = []
    courier: Example | None = None
    for kind in ("redispatched", "late"):
        found = first(kind)
        if found is None:
            continue
        dataset, item = found
        examples.append(Example(query=str(item["jobs"][0]), dataset=dataset, why=incident_describe(item)))
        if courier is None:
            courier = Example(
                query=str(item["entity"]), dataset=dataset, why=f"the courier who took {item['jobs'][0]}"
            )
    return examples + ([courier] if courier else [])


def demo_login_set(*, username: str, password: str) -> tuple[bool, tuple[str, ...]]:
    """The login exists, is active and has `password`; returns (created, groups it belongs to)."""
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(username=username)
        user.set_password(password)
        user.is_active = True
        user.save()
        groups = list(Group.objects.filter(name__in=DEMO_GROUPS).order_by("name"))
        user.groups.add(*groups)
    return created, tuple(g.name for g in groups)


def demo_banner(
    *,
    day: DemoDay,
    dataset: str,
    manifests: Sequence[tuple[str, Mapping[str, Any]]],
    username: str,
    password: str,
    groups: tuple[str, ...],
) -> list[str]:
    """The lines that tell a person where the demo is, how to log in and which ids to search."""
    body = [
        "Dispatchscope demo is ready",
        "",
        f"  open      {DEMO_URL}",
        f"  login     {username}",
        f"  password  {password}",
        f"  roles     {', '.join(groups) if groups else '(no role groups found: run manage.py migrate)'}",
        "",
        "  search for",
    ]
    for example in demo_examples(manifests=manifests):
        where = "" if example.dataset == dataset else f"  in {example.dataset}"
        body.append(f"    {example.query}{where}  ({example.why})")
    body += [
        "",
        f"  a simulated lunch: {day.couriers} couriers, {day.hours:g} h of orders, seed {day.seed}"
        f" (files in {day.folder})",
    ]
    counts = dict(manifests)
    for run in day.runs:
        name = demo_dataset(dataset=dataset, strategy=run.strategy)
        found = counts.get(name, {}).get("counts", {})
        incidents = ", ".join(f"{found.get(kind, 0):,} {label}" for kind, label in INCIDENT_KINDS)
        body.append(
            f"    {name:<{len(dataset) + 9}} {run.strategy:<10} {run.gps_points:>10,} GPS fixes"
            f" {run.events:>8,} events   {incidents}"
        )
    body.append("  the home page lists the notable incidents; more in docs/demo.md")
    width = max(len(line) for line in body) + 2
    rule = "=" * (width + 2)
    return [rule, *(f" {line}" for line in body), rule]
