import pytest

from dashboard.templatetags.search_display import id_kind, search_url
from dashboard.templatetags.timefmt import duration_between, duration_text, epoch_iso


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1_773_489_723_000, "2026-03-14T12:02:03Z"),
        (1_773_489_723_045, "2026-03-14T12:02:03.045Z"),
        (None, "—"),
    ],
)
def test_epoch_iso(value, text):
    assert epoch_iso(value) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0 ms"),
        (850, "850 ms"),
        (45_000, "45 s"),
        (61_000, "1 min 1 s"),
        (7_200_000, "2 h"),
        (8_148_000, "2 h 15 min"),
        (90_061_000, "1 d 1 h"),
    ],
)
def test_duration_text(ms, text):
    assert duration_text(ms) == text


def test_duration_between_unknown_end():
    assert duration_between(1000, None) == "—"


def test_search_url_is_a_shareable_home_link():
    assert search_url("sim-a-b-1", "order:o 1") == "/?dataset=sim-a-b-1&q=order%3Ao+1"


def test_id_kind():
    assert id_kind("courier:c17") == "courier"
    assert id_kind("c17") == ""
