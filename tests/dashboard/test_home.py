from urllib.parse import urlencode

import pytest
from django.urls import reverse

from storage.kv.base import TrackStoreError
from tests.dashboard.conftest import FakeSelectors

pytestmark = pytest.mark.django_db


def search(client, **params):
    return client.get(f"{reverse('home')}?{urlencode(params)}")


def test_anonymous_search_redirects_to_login_without_a_lookup(client, fake_selectors: FakeSelectors):
    response = search(client, dataset="prod-berlin", q="order:o123")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=/")
    assert fake_selectors.calls == []


def test_landing_lists_datasets_with_counts_and_fills_the_select(user_client, fake_selectors):
    response = user_client.get(reverse("home"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "1,234,567" in html
    assert "89,012" in html
    assert (
        '<option value="prod-berlin" selected>prod-berlin — 1,234,567 points · 89,012 events</option>' in html
    )
    assert '<option value="sim-rush-greedy-7">' in html
    assert fake_selectors.calls == []


def test_landing_with_an_empty_store_says_so_and_offers_default(user_client, fake_selectors):
    fake_selectors.datasets = []

    html = user_client.get(reverse("home")).content.decode()

    assert "No data loaded yet." in html
    assert '<option value="default" selected>' in html


def test_dataset_deep_link_preselects_it(user_client, fake_selectors):
    html = search(user_client, dataset="sim-rush-greedy-7").content.decode()

    assert '<option value="sim-rush-greedy-7" selected>' in html


def test_entity_search_shows_span_points_and_job_links(user_client, fake_selectors):
    response = search(user_client, dataset="prod-berlin", q="courier:c17")

    html = response.content.decode()
    assert response.status_code == 200
    assert fake_selectors.calls == [{"dataset": "prod-berlin", "query": "courier:c17"}]
    assert "2026-03-14T11:02:03Z" in html
    assert "2026-03-14T13:17:48Z" in html
    assert "2 h 15 min" in html
    assert "8,143" in html
    assert 'href="/?dataset=prod-berlin&amp;q=order%3Ao125"' in html
    assert "Nothing found" not in html


def test_job_search_shows_timeline_rounds_and_entities(user_client, fake_selectors):
    response = search(user_client, dataset="prod-berlin", q="order:o123")

    html = response.content.decode()
    assert response.status_code == 200
    assert "41 min 30 s" in html
    for event_type in ("job_created", "dispatch_round", "job_assigned", "job_rejected", "job_delivered"):
        assert f'data-type="{event_type}">{event_type}</span>' in html
    assert html.index("job_created") < html.index("job_rejected") < html.index("job_delivered")
    assert 'href="/?dataset=prod-berlin&amp;q=courier%3Ac4"' in html
    assert "round:r9003" in html
    # Detail summaries: reasons as text, nested lists as counts, positions as coordinates.
    assert "too_far" in html
    assert "2 items" in html
    assert "52.52000, 13.40500" in html


def test_unknown_id_says_nothing_found_with_hints(user_client, fake_selectors):
    html = search(user_client, dataset="prod-berlin", q="o999").content.decode()

    assert "Nothing found for" in html
    assert '<span class="mono">o999</span> in dataset <span class="mono">prod-berlin</span>' in html
    assert "<code>kind:id</code>" in html
    assert "A bare id was tried with every known kind" in html
    # Ids are unique only inside a dataset: the same id in the other dataset is one click away.
    assert 'href="/?dataset=sim-rush-greedy-7&amp;q=o999"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Type an id to search for"),
        ("   ", "Type an id to search for"),
        ("order:" + "x" * 195, "An id is at most 200 characters long."),
    ],
)
def test_invalid_query_shows_a_form_error_and_looks_nothing_up(user_client, fake_selectors, query, message):
    response = search(user_client, dataset="prod-berlin", q=query)

    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert fake_selectors.calls == []


def test_unknown_dataset_is_a_form_error(user_client, fake_selectors):
    html = search(user_client, dataset="nope", q="order:o123").content.decode()

    assert "No dataset is named “nope”" in html
    assert fake_selectors.calls == []


def test_query_without_dataset_searches_the_first_dataset(user_client, fake_selectors):
    search(user_client, q="  order:o123 ")

    assert fake_selectors.calls == [{"dataset": "prod-berlin", "query": "order:o123"}]


def test_unreadable_store_renders_the_page_with_the_reason(user_client, monkeypatch):
    from playback import selectors

    def broken() -> list[object]:
        raise TrackStoreError("cannot open /srv/tracks: permission denied (check TRACK_STORE)")

    monkeypatch.setattr(selectors, "datasets", broken)

    response = search(user_client, q="order:o123")

    assert response.status_code == 503
    assert "permission denied (check TRACK_STORE)" in response.content.decode()


def test_header_shows_user_and_a_post_logout(user_client, fake_selectors):
    html = user_client.get(reverse("home")).content.decode()

    assert "Signed in as <strong>ana</strong>" in html
    assert f'<form method="post" action="{reverse("logout")}"' in html
    response = user_client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert user_client.get(reverse("home")).status_code == 302
