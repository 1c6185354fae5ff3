"""`manage.py hbase_create_tables [--print-shell] [--alias NAME]`: the HBase tables of the track store."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from storage.connections import track_stores
from storage.keys import LAYOUT_KEY, Layout
from storage.kv.base import TrackStoreError
from storage.kv.hbase import HBaseStore, hbase_shell_script
from storage.tracks.layout import LAYOUT_VERSION, layout_record

HBASE_BACKEND = "storage.kv.hbase.HBaseStore"


class Command(BaseCommand):
    help = (
        "Create the track store's HBase tables (column family d, one version) through Thrift and record "
        "its layout, or with --print-shell print the `hbase shell` script that pre-splits them by salt."
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
        alias = options["alias"]
        store = self._configured_store(alias)
        if options["print_shell"]:
            # A script for a new prefix: it records the layout a store of these settings starts with.
            layout = [(LAYOUT_KEY, layout_record(Layout(salts=store.salts)))]
            self.stdout.write(
                hbase_shell_script(prefix=store.prefix, salts=store.salts, meta_rows=layout), ending=""
            )
            return
        try:
            tables = store.create_tables()
            # Opening the track store records its layout, migrates an older one, or refuses a mismatch.
            track_store = track_stores[alias]
            recorded = track_store.layout
            track_store.close()
        except TrackStoreError as exc:
            raise CommandError(str(exc)) from None
        finally:
            store.close()
        for table in tables:
            self.stdout.write(f"{table.name}: {'created' if table.created else 'exists'}")
        self.stdout.write(
            f"layout version {LAYOUT_VERSION} with salt count {recorded.salts} recorded in "
            f"{store.table_name('meta')}"
        )
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
