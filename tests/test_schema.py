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
