"""`manage.py check` validates the chosen backends' options before anything connects, naming the variable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.utils.module_loading import import_string

from storage.kv.base import TrackStoreError
from storage.warehouse.base import WarehouseError


def _alias_problems(setting_name: str, aliases: dict[str, dict[str, Any]], code: str) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    for alias, config in aliases.items():
        variable = config.get("SETTING", setting_name)
        try:
            backend = import_string(config["BACKEND"])
        except (KeyError, ImportError) as exc:
            problems.append(
                Error(
                    f"{setting_name}[{alias!r}] names an unusable BACKEND: {exc}",
                    hint=f"Check {variable}.",
                    id=f"{code}.E001",
                )
            )
            continue
        try:
            backend.options_check(config.get("OPTIONS", {}))
        except (TrackStoreError, WarehouseError) as exc:
            message = str(exc) if variable in str(exc) else f"{variable}: {exc}"
            problems.append(Error(message, hint=f"Check {variable}.", id=f"{code}.E002"))
    return problems


@register("dispatchscope")
def backends_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Errors for TRACK_STORES and WAREHOUSES entries whose backend or options cannot work."""
    return [
        *_alias_problems("TRACK_STORES", settings.TRACK_STORES, "dispatchscope.track_store"),
        *_alias_problems("WAREHOUSES", settings.WAREHOUSES, "dispatchscope.warehouse"),
    ]
