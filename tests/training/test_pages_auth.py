import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def test_the_root_sends_a_visitor_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "name,args",
    [
        ("home", []),
        ("skills", []),
        ("password_change", []),
        ("assignment", [1]),
        ("lesson", [1, 1]),
        ("quiz", [1]),
        ("attempt", [1]),
    ],
)
def test_every_page_but_sign_in_needs_a_session(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_sign_in_page_has_labelled_fields(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert '<label for="id_username">' in response.text
    assert '<label for="id_password">' in response.text
    assert 'href="#main"' in response.text


def test_signing_in_leads_to_the_dashboard(engineer):
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("login"))
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_signing_in_without_the_csrf_token_is_refused(engineer):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403


def test_a_wrong_password_shows_a_form_error(client, engineer):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.text
    assert "_auth_user_id" not in client.session


def test_signing_in_returns_to_the_page_asked_for(client, engineer):
    response = client.post(
        reverse("login") + "?next=/skills/",
        {"username": "alice", "password": PASSWORD, "next": "/skills/"},
    )
    assert response["Location"] == "/skills/"


def test_signing_out_needs_a_post_and_ends_the_session(client, engineer):
    client.force_login(engineer.user)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_changing_the_password(client, engineer):
    client.force_login(engineer.user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a much better passphrase 42",
            "new_password2": "a much better passphrase 42",
        },
    )
    assert response.status_code == 302
    engineer.user.refresh_from_db()
    assert engineer.user.check_password("a much better passphrase 42")
    # The session survives its own password change.
    assert client.get(reverse("home")).status_code == 200


def test_a_bad_password_change_shows_errors_next_to_the_fields(client, engineer):
    client.force_login(engineer.user)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "short", "new_password2": "other"},
    )
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.text
    assert 'id="id_old_password_errors"' in response.text
    engineer.user.refresh_from_db()
    assert engineer.user.check_password(PASSWORD)


def test_a_user_without_an_engineer_profile_sees_a_plain_dashboard(client, lead):
    client.force_login(lead)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "No training profile" in response.text
    assert client.get(reverse("skills")).status_code == 404
