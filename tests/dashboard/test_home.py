from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse

from storage.kv.base import TrackStoreError
from tests.dashboard.conftest import FakeSelectors

pytestmark = pytest.mark.django_db


def search(client, **params):
    return client.get(f"{reverse('home')}?{urlencode(params)}")


def test_anonymous_search_redirects_to_login_without_a_lookup(client, fake_selectors: FakeSelectors):
    response = search(client, q="order:o123")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=/")
    assert fake_selectors.calls == []


def test_a_user_without_a_role_is_refused_with_the_role_named(roleless_client, fake_selectors):
    response = search(roleless_client, q="order:o123")

    assert response.status_code == 403
    assert "the ops or analyst role" in response.content.decode()
    assert fake_selectors.calls == []


def test_landing_lists_datasets_with_counts_and_fills_the_select(user_client, fake_selectors):
    response = user_client.get(reverse("home"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "1,234,567" in html
    assert "89,012" in html
    assert '<option value="" selected>All datasets</option>' in html
    assert '<option value="prod-berlin">prod-berlin — 1,234,567 points · 89,012 events</option>' in html
    assert fake_selectors.calls == []


def test_landing_with_an_empty_store_says_so(user_client, fake_selectors):
    fake_selectors.datasets = []

    html = user_client.get(reverse("home")).content.decode()

    assert "No data loaded yet." in html
    assert '<option value="" selected>All datasets</option>' in html


def test_an_id_one_dataset_holds_opens_its_playback_directly(user_client, fake_selectors):
    response = search(user_client, q="courier:c17")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("playback")
    assert parse_qs(target.query) == {"dataset": ["prod-berlin"], "entity": ["courier:c17"]}
    # Every dataset was asked, not only the first.
    assert {c["dataset"] for c in fake_selectors.calls} == {"prod-berlin", "sim-rush-greedy-7"}


def test_a_bare_id_is_found_under_its_kind(user_client, fake_selectors):
    response = search(user_client, q="c17")

    assert response.status_code == 302
    assert "entity=courier%3Ac17" in response["Location"]


def test_an_id_in_several_datasets_lists_them_production_first(user_client, fake_selectors):
    response = search(user_client, q="order:o123")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-result-count="2"' in html
    assert html.index(">Production</h3>") < html.index(">Simulation</h3>")
    assert f'href="{reverse("playback")}?dataset=prod-berlin&amp;job=order%3Ao123"' in html
    assert f'href="{reverse("playback")}?dataset=sim-rush-greedy-7&amp;job=order%3Ao123"' in html
    assert "41 min 30 s" in html  # the job's span


def test_choosing_a_dataset_searches_only_it(user_client, fake_selectors):
    response = search(user_client, dataset="sim-rush-greedy-7", q="order:o123")

    assert response.status_code == 302
    assert "dataset=sim-rush-greedy-7" in response["Location"]
    assert {c["dataset"] for c in fake_selectors.calls} == {"sim-rush-greedy-7"}


def test_unknown_id_says_nothing_found_with_hints(user_client, fake_selectors):
    html = search(user_client, q="o999").content.decode()

    assert "Nothing found for" in html
    assert '<span class="mono">o999</span> in any dataset' in html
    assert "<code>kind:id</code>" in html
    assert "A bare id was tried with every known kind" in html


def test_unknown_id_in_one_dataset_offers_every_dataset(user_client, fake_selectors):
    html = search(user_client, dataset="prod-berlin", q="order:o999").content.decode()

    assert 'in dataset <span class="mono">prod-berlin</span>' in html
    assert 'href="/?q=order%3Ao999">search every dataset</a>' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Type an id to search for"),
        ("   ", "Type an id to search for"),
        ("order:" + "x" * 195, "An id is at most 200 characters long."),
        ("order: o1", "is not an id"),
    ],
)
def test_invalid_query_shows_a_form_error_and_looks_nothing_up(user_client, fake_selectors, query, message):
    response = search(user_client, q=query)

    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert fake_selectors.calls == []


def test_unknown_dataset_is_a_form_error(user_client, fake_selectors):
    html = search(user_client, dataset="nope", q="order:o123").content.decode()

    assert "No dataset is named “nope”" in html
    assert fake_selectors.calls == []


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
