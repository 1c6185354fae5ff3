"""Create the two roles every deployment starts with: `ops` (incident playback) and `analyst` (experiments)."""

from typing import ClassVar

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

ROLE_GROUPS = ("ops", "analyst")


def groups_create(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    group_model = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        group_model.objects.using(schema_editor.connection.alias).get_or_create(name=name)


def groups_delete(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    group_model = apps.get_model("auth", "Group")
    group_model.objects.using(schema_editor.connection.alias).filter(name__in=ROLE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies: ClassVar = [("auth", "0012_alter_user_first_name_max_length")]

    operations: ClassVar = [migrations.RunPython(groups_create, groups_delete)]
