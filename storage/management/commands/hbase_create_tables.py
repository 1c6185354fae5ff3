"""`manage.py hbase_create_tables [--print-shell] [--alias NAME]`: the HBase tables of the track store."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from storage.kv.base import TrackStoreError
from storage.kv.hbase import HBaseStore, hbase_shell_script

HBASE_BACKEND = "storage.kv.hbase.HBaseStore"


class Command(BaseCommand):
    help = (
        "Create the track store's HBase tables (column family d, one version) through Thrift and record "
        "the salt count, or with --print-shell print the `hbase shell` script that pre-splits them by salt."
    )

    # Table setup is run on a deployment before the site serves anything; URL and model checks add nothing.
    requires_system_checks = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--print-shell",
            action="store_true",
            help="print the hbase shell script (tables pre-split by salt) instead of connecting",
        )
        parser.add_argument("--alias", default="default", help="TRACK_STORES alias (default: default)")

    def handle(self, *args: Any, **options: Any) -> None:
        store = self._configured_store(options["alias"])
        if options["print_shell"]:
            self.stdout.write(hbase_shell_script(prefix=store.prefix, salts=store.salts), ending="")
            return
        try:
            tables = store.create_tables()
        except TrackStoreError as exc:
            raise CommandError(str(exc)) from None
        finally:
            store.close()
        for table in tables:
            self.stdout.write(f"{table.name}: {'created' if table.created else 'exists'}")
        self.stdout.write(f"salt count {store.salts} recorded in {store.table_name('meta')}")
        if store.salts > 1 and any(t.created for t in tables):
            # Thrift 1's createTable takes no split keys, so these tables start as one region each.
            self.stdout.write(
                "note: tables created through Thrift have one region; for a cluster, create them with "
                "`manage.py hbase_create_tables --print-shell | hbase shell -n` to pre-split by salt"
            )

    def _configured_store(self, alias: str) -> HBaseStore:
        stores: dict[str, dict[str, Any]] = getattr(settings, "TRACK_STORES", {})
        config = stores.get(alias)
        if config is None:
            raise CommandError(f"TRACK_STORES has no alias {alias!r}")
        setting = config.get("SETTING", "TRACK_STORE")
        if config.get("BACKEND") != HBASE_BACKEND:
            raise CommandError(
                f"{setting} does not name an HBase store (backend {config.get('BACKEND')}); "
                "set it to hbase://host:9090/prefix?salts=16"
            )
        try:
            return HBaseStore.from_options(config.get("OPTIONS", {}))
        except TrackStoreError as exc:
            raise CommandError(str(exc)) from None
