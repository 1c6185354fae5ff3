import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db
def test_roles_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {"ops", "analyst"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_roles_migration_reverses_and_reapplies():
    executor = MigrationExecutor(connection)
    executor.migrate([("dashboard", None)])
    assert not Group.objects.filter(name__in=["ops", "analyst"]).exists()

    executor = MigrationExecutor(connection)
    executor.migrate([("dashboard", "0001_groups")])
    assert sorted(Group.objects.filter(name__in=["ops", "analyst"]).values_list("name", flat=True)) == [
        "analyst",
        "ops",
    ]
