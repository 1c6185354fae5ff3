"""The suite runs on the database DATABASE_URL asks for (SQLite by default), with the role groups migrated."""

import os

import dj_database_url
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

VENDORS = {
    "django.db.backends.postgresql": "postgresql",
    "django.db.backends.sqlite3": "sqlite",
    "django.db.backends.mysql": "mysql",
    "django.db.backends.oracle": "oracle",
}


def _asked_engine() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return dj_database_url.parse(url)["ENGINE"] if url else "django.db.backends.sqlite3"


@pytest.mark.django_db
def test_connection_is_the_database_that_database_url_names():
    assert connection.vendor == VENDORS[_asked_engine()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            assert cursor.fetchone()[0].startswith("PostgreSQL")
            # pytest-django made a throwaway database next to the configured one.
            assert connection.settings_dict["NAME"].startswith("test_")
        else:
            cursor.execute("SELECT sqlite_version()")
            assert cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_role_groups_migration_applied():
    applied = MigrationRecorder(connection).migration_qs.filter(app="dashboard", name="0001_groups")
    assert applied.exists()
    assert set(Group.objects.filter(name__in=["ops", "analyst"]).values_list("name", flat=True)) == {
        "ops",
        "analyst",
    }
