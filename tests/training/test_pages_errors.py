"""Error pages: a 404 in the site's frame and language, a 500 that needs nothing."""

import json

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from core.api import errors

pytestmark = pytest.mark.django_db


def test_an_unknown_page_is_a_404_in_the_sites_frame(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.text
    assert 'class="site-header"' in response.text  # the site's own header and switcher


def test_the_404_page_speaks_the_visitors_language(client):
    response = client.get("/no-such-page/", headers={"accept-language": "zh-hans"})

    assert response.status_code == 404
    assert "找不到页面" in response.text


def test_a_signed_in_engineer_gets_the_404_with_their_navigation(client, engineer):
    client.force_login(engineer.user)

    response = client.get("/lead/releases/rtm-android/9.9.9/")

    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Sign out (alice)" in response.text


def test_an_unknown_api_address_stays_json(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_the_500_page_renders_without_a_request_context():
    with translation.override("zh-hans"):
        response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "出错了" in response.content.decode()


def test_a_server_error_under_the_api_is_json_and_a_page_keeps_the_500_page():
    api = errors.server_error(RequestFactory().get("/api/v1/sdks/"))
    page = errors.server_error(RequestFactory().get("/"))

    assert (api.status_code, api["Content-Type"]) == (500, "application/json")
    assert json.loads(api.content) == {"detail": "Something went wrong."}
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


def test_an_unknown_method_under_the_api_is_a_json_405(token_client):
    response = token_client("catalog").delete("/api/v1/sdks/")

    assert response.status_code == 405
    assert "DELETE" in response.json()["detail"]
