"""The OpenAPI schema describes every operation of the API v1 contract."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

CONTRACT = {
    "/api/v1/sdks/": {"get", "post"},
    "/api/v1/sdks/{slug}/": {"get"},
    "/api/v1/skills/": {"get", "post"},
    "/api/v1/courses/": {"get"},
    "/api/v1/courses/{slug}/": {"get", "put"},
    "/api/v1/teams/": {"post"},
    "/api/v1/teams/{slug}/": {"patch"},
    "/api/v1/engineers/": {"post"},
    "/api/v1/engineers/{username}/": {"patch"},
    "/api/v1/engineers/{username}/skills/": {"get"},
    "/api/v1/releases/": {"get", "post"},
    "/api/v1/releases/{sdk}/{version}/": {"get", "patch"},
    "/api/v1/releases/{sdk}/{version}/publish/": {"post"},
    "/api/v1/releases/{sdk}/{version}/readiness/": {"get"},
    "/api/v1/releases/{sdk}/{version}/availability/": {"post"},
    "/api/v1/assignments/": {"get", "post"},
}


@pytest.fixture(scope="module")
def schema():
    generated = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(generated)
    return generated


@pytest.mark.parametrize("path", sorted(CONTRACT))
def test_the_schema_describes_every_contract_operation(schema, path):
    assert path in schema["paths"], f"{path} is missing from the schema"
    assert CONTRACT[path] <= set(schema["paths"][path])


def test_the_schema_declares_bearer_token_auth(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def _path_parameters(schema, path: str) -> dict[str, dict]:
    operation = next(iter(schema["paths"][path].values()))
    return {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "path"}


@pytest.mark.parametrize(
    ("path", "name", "pattern"),
    [
        ("/api/v1/sdks/{slug}/", "slug", "^[-a-zA-Z0-9_]+$"),
        ("/api/v1/teams/{slug}/", "slug", "^[-a-zA-Z0-9_]+$"),
        ("/api/v1/releases/{sdk}/{version}/", "sdk", "^[-a-zA-Z0-9_]+$"),
        ("/api/v1/engineers/{username}/", "username", "^[\\w.@+-]+$"),
    ],
)
def test_path_parameters_carry_the_pattern_their_route_matches(schema, path, name, pattern):
    assert _path_parameters(schema, path)[name]["pattern"] == pattern


@pytest.mark.parametrize("version", ["2.4.0", "v2.4.0-rc.1", "1.0.0+build.5"])
def test_the_version_pattern_takes_semantic_versions(schema, version):
    import re

    for path in ("/api/v1/releases/{sdk}/{version}/", "/api/v1/releases/{sdk}/{version}/publish/"):
        pattern = _path_parameters(schema, path)["version"]["pattern"]
        assert re.match(pattern, version)
    body = schema["components"]["schemas"]["ReleaseInRequest"]["properties"]["version"]
    assert re.match(body["pattern"], version)
    assert not re.match(body["pattern"], "1\u0660.0.0")


def test_page_and_page_size_are_whole_numbers_of_one_or_more(schema):
    parameters = schema["paths"]["/api/v1/sdks/"]["get"]["parameters"]
    paging = {p["name"]: p["schema"] for p in parameters if p["name"] in ("page", "page_size")}

    assert paging == {
        "page": {"type": "integer", "minimum": 1},
        "page_size": {"type": "integer", "minimum": 1},
    }
