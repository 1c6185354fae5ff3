import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(django_user_model):
    return django_user_model.objects.create_user(username="ops1", password="correct horse battery")


def test_login_page_is_styled_and_needs_no_login(client):
    response = client.get(reverse("login"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert "css/app.css" in html


def test_wrong_password_shows_the_error(client, account):
    response = client.post(reverse("login"), {"username": "ops1", "password": "wrong"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html
    assert "Please enter a correct username and password" in html
    assert 'value="ops1"' in html


def test_login_returns_to_the_deep_link(client, account):
    target = "/?dataset=prod&q=order%3Ao1"
    response = client.post(
        reverse("login"), {"username": "ops1", "password": "correct horse battery", "next": target}
    )

    assert response.status_code == 302
    assert response["Location"] == target
