"""`manage.py demo_setup --out DIR [--seed N] [--dataset NAME] [--username demo] [--password …]`.

Generates the demo sample (pipeline/sample.py) unless this seed's files are already in DIR, loads it into the
track store and the warehouse (re-running stores nothing twice), creates or resets the demo login, and prints
where to go and what to search for.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from pipeline.ingest import IngestError, IngestSummary, ingest_paths
from pipeline.sample import SampleManifest, sample_manifest_read, sample_paths, sample_write

DEMO_URL = "http://127.0.0.1:8000"
#: The roles a demo login gets, where the groups migration created them.
DEMO_GROUPS = ("ops", "analyst")


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
    *, manifest: SampleManifest, out_dir: Path, username: str, password: str, groups: tuple[str, ...]
) -> list[str]:
    """The lines that tell a person where the demo is, how to log in and which ids to search."""
    why = dict(reversed(manifest.incidents)).get(manifest.example_job, "a delivered order")
    body = [
        "Dispatchscope demo is ready",
        "",
        f"  open      {DEMO_URL}",
        f"  login     {username}",
        f"  password  {password}",
        f"  roles     {', '.join(groups) if groups else '(no role groups found: run manage.py migrate)'}",
        "",
        "  search for",
        f"    {manifest.example_job}  ({why})",
        f"    {manifest.example_courier}  (the courier who delivered it)",
        f"    {manifest.example_bike}  (a shared bike with short rides)",
        "",
        f"  dataset {manifest.dataset}: {manifest.gps_points:,} GPS fixes, {manifest.events:,} events"
        f" (files in {out_dir})",
        "  more incidents to look at: docs/demo.md and the manifest JSON next to the files",
    ]
    width = max(len(line) for line in body) + 2
    rule = "=" * (width + 2)
    return [rule, *(f" {line}" for line in body), rule]


def _load_lines(summary: IngestSummary) -> list[str]:
    lines = [
        f"loaded {f.path.name}: read {f.read:,}, stored {f.stored:,}, duplicate {f.duplicates:,}, "
        f"quarantined {f.quarantined:,}"
        for f in summary.files
    ]
    if summary.stored == 0 and summary.read:
        lines.append("already loaded: nothing new was stored")
    return lines


class Command(BaseCommand):
    help = "Generate and load the demo sample, create the demo login, and print how to explore it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="directory for the sample files")
        parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
        parser.add_argument(
            "--dataset", default="demo", help="dataset to load the sample into (default demo)"
        )
        parser.add_argument("--username", default="demo", help="login to create or reset (default demo)")
        parser.add_argument("--password", default=None, help="password for the login (default: a random one)")

    def handle(self, *args: Any, **options: Any) -> None:
        out_dir: Path = options["out"]
        seed: int = options["seed"]
        dataset: str = options["dataset"]
        manifest = sample_manifest_read(out_dir, seed=seed, dataset=dataset)
        if manifest is None:
            self.stdout.write(f"generating the demo sample (seed {seed}) into {out_dir} …")
            manifest = sample_write(out_dir, seed=seed, dataset=dataset)
        else:
            self.stdout.write(f"reusing the demo sample (seed {seed}) in {out_dir}")

        try:
            summary = ingest_paths(
                list(sample_paths(manifest)), dataset=dataset, progress=sys.stderr.isatty()
            )
        except IngestError as exc:
            raise CommandError(f"loading the demo sample failed: {exc}") from None
        for line in _load_lines(summary):
            self.stdout.write(line)
        if summary.quarantined:
            self.stderr.write(
                f"warning: {summary.quarantined} row(s) of the demo sample were quarantined; see "
                + ", ".join(str(f.quarantine_path) for f in summary.files if f.quarantine_path)
            )

        password = options["password"] or secrets.token_urlsafe(9)
        created, groups = demo_login_set(username=options["username"], password=password)
        self.stdout.write(f"{'created' if created else 'reset'} the login {options['username']!r}")
        for line in demo_banner(
            manifest=manifest, out_dir=out_dir, username=options["username"], password=password, groups=groups
        ):
            self.stdout.write(line)
