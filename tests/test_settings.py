import pytest
from django.urls import reverse

from dashboard.config import ConfigurationError, parse_track_store, parse_warehouse


def test_unknown_track_store_scheme_lists_accepted(tmp_path):
    with pytest.raises(ConfigurationError, match=r"lmdb://, hbase://"):
        parse_track_store("cassandra://x", var_dir=tmp_path)


def test_unknown_warehouse_scheme_lists_accepted(tmp_path):
    with pytest.raises(ConfigurationError, match=r"duckdb://, presto://, trino://"):
        parse_warehouse("mysql://x", var_dir=tmp_path)


def test_home_needs_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
