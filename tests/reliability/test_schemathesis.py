"""schemathesis over every operation of /api/schema/, as each kind of client.

Generated requests (valid and invalid) go to the WSGI application in process, once
with a token of each scope, once with a token of every scope, once with a token of
none and once with no credentials. Every answer must not be a 5xx, must have a
status code the schema documents for the operation, and a body that matches the
schema. Then the same checks on real objects of the demo data (generated slugs and
versions mostly miss, so answers with full bodies need known ones).
"""

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from courses.models import Course, Playbook, Release, Sdk, Skill
from training.api.throttling import ClientRateThrottle
from training.models import Assignment, Engineer, Scope, Team
from training.services.tokens import token_issue
from training.wsgi import application

# Every check of a single answer but negative_data_rejection: DRF reads 0 as the
# string "0" and "yes" as true, which a schema of strict JSON types cannot say.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Each example is sent as every client: 27 operations, 8 clients, this many examples.
MAX_EXAMPLES = 10


def _load(*, coverage: bool, fuzzing: bool):
    config = schemathesis.Config.from_dict(
        {"phases": {"coverage": {"enabled": coverage}, "fuzzing": {"enabled": fuzzing}}}
    )
    return schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """schemathesis calls the WSGI application itself, not through Django's test
    client, so Django's request signals would close the test's connection (it is in
    the test's transaction, so not in autocommit), as the test client avoids too."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db):
    """Random valid and invalid requests (Hypothesis)."""
    return _load(coverage=False, fuzzing=True)


@pytest.fixture
def api_schema_boundaries(db):
    """schemathesis's coverage phase: each parameter and field at its boundaries and
    just past them, missing, null, of the wrong type: a fixed, larger set of cases."""
    return _load(coverage=True, fuzzing=False)


@pytest.fixture
def clients(db, monkeypatch):
    """Authorization headers of every kind of client, by name. Rate limits are lifted:
    this test is a flood by design (their own test is test_security)."""
    monkeypatch.setitem(ClientRateThrottle.THROTTLE_RATES, "api", "1000000/min")
    monkeypatch.setitem(ClientRateThrottle.THROTTLE_RATES, "api_anon", "1000000/min")
    headers = {"anonymous": {}}
    for name, scopes in [
        *((scope.value, [scope.value]) for scope in Scope),
        ("every-scope", list(Scope.values)),
        ("no-scope", []),
    ]:
        raw = token_issue(name=f"schemathesis-{name}", scopes=scopes)[1]
        headers[name] = {"Authorization": f"Bearer {raw}"}
    return headers


schema = schemathesis.pytest.from_fixture("api_schema")
boundaries = schemathesis.pytest.from_fixture("api_schema_boundaries")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_the_schema_says_for_every_client(case, clients):
    for headers in clients.values():
        case.call_and_validate(headers=headers, checks=CHECKS)


@boundaries.parametrize()
@settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_handles_boundary_and_malformed_input(case, clients):
    # The token that gets past every permission check, to the code that parses input.
    case.call_and_validate(headers=clients["every-scope"], checks=CHECKS)


def test_real_objects_are_served_as_the_schema_describes_them(api_schema, clients):
    call_command("demo", verbosity=0)
    release = Release.objects.filter(status=Release.Status.PUBLISHED).select_related("sdk").first()
    values = {
        "sdk": release.sdk.slug,
        "version": release.version,
        "slug": None,  # per path, below
        "username": Engineer.objects.select_related("user").first().user.username,
        "id": Assignment.objects.order_by("id").first().pk,
    }
    slugs = {
        "/api/v1/sdks/{slug}/": Sdk.objects.first().slug,
        "/api/v1/skills/{slug}/": Skill.objects.first().slug,
        "/api/v1/courses/{slug}/": Course.objects.filter(quiz__isnull=False).first().slug,
        "/api/v1/courses/{slug}/questions/export/": Course.objects.filter(quiz__isnull=False)
        .first()
        .slug,
        "/api/v1/teams/{slug}/": Team.objects.first().slug,
        "/api/v1/playbooks/{slug}/": Playbook.objects.first().slug,
    }
    checked = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        path_parameters = {
            parameter.name: slugs[operation.path]
            if parameter.name == "slug"
            else values[parameter.name]
            for parameter in operation.path_parameters
        }
        case = operation.Case(path_parameters=path_parameters)
        for name, headers in clients.items():
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)
            if name == "every-scope":
                assert response.status_code == 200, (operation.label, response.text)
        checked += 1
    assert checked >= 12
