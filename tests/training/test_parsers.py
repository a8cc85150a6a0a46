"""The API's JSON parser (training.api.parsers): DRF's, with a nesting limit."""

import json

import pytest

from training.api.parsers import MAX_DEPTH, json_depth_exceeds

pytestmark = pytest.mark.django_db

SDKS = "/api/v1/sdks/"


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_a_body_nested_100_000_levels_deep_is_a_400(token_client, opening):
    response = token_client("catalog").post(
        SDKS, opening * 100_000, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON nested too deeply")


def test_a_body_one_level_past_the_limit_is_a_400_and_at_the_limit_is_parsed(token_client):
    catalog = token_client("catalog")
    at_limit = {
        "slug": "deep",
        "name": "Deep",
        "x": json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)),
    }
    past = {**at_limit, "x": [at_limit["x"]]}

    assert catalog.post(SDKS, at_limit, format="json").status_code == 201
    assert catalog.post(SDKS, past, format="json").status_code == 400


def test_brackets_inside_strings_are_not_nesting(token_client):
    name = "[{" * 1000 + '\\"[' + "]"
    response = token_client("catalog").post(
        SDKS, {"slug": "brackets", "name": name[:200]}, format="json"
    )

    assert response.status_code == 201
    assert not json_depth_exceeds(json.dumps({"a": ["[" * 10_000, '"\\[', "{"]}))


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        pytest.param('"' + "\\" * 5 + "[" * 100, False, id="unterminated-string"),
        pytest.param('"\\"' + "[" * 100, False, id="escaped-quote-unterminated"),
        pytest.param('"a\\"", ' + "[" * 100, True, id="after-a-closed-string"),
        pytest.param("]" * 100 + "[" * 100, True, id="closing-what-was-never-opened"),
    ],
)
def test_malformed_text_is_counted_without_error(text, too_deep):
    assert json_depth_exceeds(text) is too_deep


def test_malformed_json_is_still_a_400_naming_the_parse_error(token_client):
    response = token_client("catalog").post(SDKS, '{"slug": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
