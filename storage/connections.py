"""The configured track stores and warehouses, built lazily from settings like Django's CACHES.

`track_stores["default"]` and `warehouses["default"]` are what domain code uses; a test that overrides
TRACK_STORES or WAREHOUSES gets fresh objects, because the handlers reset on `setting_changed`.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.connection import BaseConnectionHandler
from django.utils.module_loading import import_string

from storage.keys import Layout
from storage.kv.base import SortedKV, TrackStoreError
from storage.tracks import TrackStore
from storage.warehouse.base import Warehouse, WarehouseError


class TrackStoreDoesNotExist(TrackStoreError):
    """No TRACK_STORES entry has that alias."""


class WarehouseDoesNotExist(WarehouseError):
    """No WAREHOUSES entry has that alias."""


def _backend_class(config: dict[str, Any], alias: str, setting: str, error: type[Exception]) -> Any:
    try:
        return import_string(config["BACKEND"])
    except (KeyError, ImportError) as exc:
        raise error(f"{setting}[{alias!r}] names an unusable BACKEND: {exc}") from None


class TrackStoreHandler(BaseConnectionHandler):  # type: ignore[type-arg]
    """Track stores by alias, from settings.TRACK_STORES."""

    settings_name = "TRACK_STORES"
    exception_class = TrackStoreDoesNotExist

    def create_connection(self, alias: str) -> TrackStore:
        config = self.settings[alias]
        backend = _backend_class(config, alias, "TRACK_STORES", TrackStoreError)
        options = config.get("OPTIONS", {})
        kv: SortedKV = backend.from_options(options)
        # A salt count named in the setting must match the one the store was created with.
        layout = Layout(salts=int(options["salts"])) if options.get("salts") else None
        return TrackStore(kv, layout=layout)

    def __getitem__(self, alias: str) -> TrackStore:
        store: TrackStore = super().__getitem__(alias)
        return store


class WarehouseHandler(BaseConnectionHandler):  # type: ignore[type-arg]
    """Warehouses by alias, from settings.WAREHOUSES."""

    settings_name = "WAREHOUSES"
    exception_class = WarehouseDoesNotExist

    def create_connection(self, alias: str) -> Warehouse:
        config = self.settings[alias]
        backend = _backend_class(config, alias, "WAREHOUSES", WarehouseError)
        warehouse: Warehouse = backend.from_options(config.get("OPTIONS", {}))
        return warehouse

    def __getitem__(self, alias: str) -> Warehouse:
        warehouse: Warehouse = super().__getitem__(alias)
        return warehouse


track_stores = TrackStoreHandler()
warehouses = WarehouseHandler()


@receiver(setting_changed)
def _reset_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    for handler in (track_stores, warehouses):
        if setting == handler.settings_name:
            handler.close_all()
            handler.__dict__.pop("settings", None)
            handler.__init__()  # type: ignore[misc]  # fresh settings and connections, as Django's caches do
