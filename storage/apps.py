from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "storage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the setting_changed receiver that rebuilds stores when tests override their settings.
        from storage import connections  # noqa: F401
