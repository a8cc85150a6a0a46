"""The regrade page (/authoring/…/regrade/) and the regrade API endpoint."""

import pytest
from django.test import Client
from django.urls import reverse

from core.actors import SYSTEM
from tests.factories import EngineerFactory, UserFactory
from tests.training.regrade_course import RIGHT, SLUG, WRONG, answer, regrade_course
from tests.training.regrade_course import regrade_document as document
from training.models import Attempt, AuditEvent, SupportManager
from training.services.courses import course_save

URL = reverse("question_regrade", args=[SLUG, "edits"])


@pytest.fixture
def course(sdk):
    return regrade_course(sdk=sdk)


@pytest.fixture
def fixed(course, engineer):
    """alice passed on the wrong key; the key is now right."""
    attempt = answer(engineer=engineer, course=course, choice=WRONG)
    course_save(slug=SLUG, document=document(right=RIGHT), actor=SYSTEM)
    return attempt


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_author_sees_the_dry_run_then_applies_it(fixed, staff):
    client = _client(staff)
    page = client.get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "regrade-changes" in body and "alice" in body and "pass → fail" in body
    assert Attempt.objects.get(pk=fixed.pk).passed is True

    applied = client.post(URL)

    assert applied.status_code == 302
    assert Attempt.objects.get(pk=fixed.pk).passed is False
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.QUESTION_REGRADED).count() == 1
    after = client.get(URL).content.decode()
    assert "No attempt&#x27;s result would change." in after or "No attempt" in after


def test_the_course_owner_may_regrade_it(sdk, engineer):
    owner = UserFactory(username="olga")
    course = regrade_course(sdk=sdk, document=document(owner="olga"))
    answer(engineer=engineer, course=course, choice=WRONG)
    course_save(slug=SLUG, document=document(right=RIGHT, owner="olga"), actor=SYSTEM)
    assert _client(owner).get(URL).status_code == 200


def test_apply_needs_the_csrf_token(fixed, staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(URL).status_code == 403
    assert Attempt.objects.get(pk=fixed.pk).passed is True


def test_an_engineer_gets_403(fixed, engineer):
    assert _client(engineer.user).get(URL).status_code == 403
    assert _client(engineer.user).post(URL).status_code == 403
    assert Attempt.objects.get(pk=fixed.pk).passed is True


def test_a_manager_reads_but_does_not_regrade(fixed):
    manager = UserFactory(username="mona")
    SupportManager.objects.create(user=manager)
    assert _client(manager).get(URL).status_code == 403
    assert _client(manager).get(reverse("authoring_home")).status_code == 200


def test_another_owners_course_is_404(sdk, engineer):
    UserFactory(username="olga")
    regrade_course(sdk=sdk, document=document(owner="olga"))
    other = UserFactory(username="otto")
    course_save(slug="another-course", document={**document(owner="otto")}, actor=SYSTEM)
    assert _client(other).get(URL).status_code == 404
    own = reverse("question_regrade", args=["another-course", "edits"])
    assert _client(other).get(own).status_code == 200


def test_the_dry_run_page_reads_a_bounded_number_of_queries(
    course, team, staff, django_assert_max_num_queries
):
    for n in range(12):
        someone = EngineerFactory(user=UserFactory(username=f"e{n}"), team=team)
        answer(engineer=someone, course=course, choice=WRONG if n % 2 else RIGHT)
    course_save(slug=SLUG, document=document(right=RIGHT), actor=SYSTEM)
    client = _client(staff)
    with django_assert_max_num_queries(14):
        assert client.get(URL).status_code == 200


# --- API -----------------------------------------------------------------------------

API = f"/api/v1/courses/{SLUG}/questions/edits/regrade/"


def test_the_api_dry_run_then_apply(fixed, token_client):
    client = token_client("catalog")
    dry = client.post(API, {"dry_run": True}, format="json")
    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert body["dry_run"] is True and body["flips"] == {"pass_to_fail": 1, "fail_to_pass": 0}
    (row,) = body["attempts"]
    assert row["engineer"] == "alice" and row["score"] == {"before": 100, "after": 50}
    assert row["completion"] == {"before": "complete", "after": "in_progress"}
    assert Attempt.objects.get(pk=fixed.pk).passed is True

    applied = client.post(API, {"dry_run": False}, format="json")
    assert applied.status_code == 200 and applied.json()["dry_run"] is False
    assert Attempt.objects.get(pk=fixed.pk).passed is False
    again = client.post(API, {"dry_run": False}, format="json").json()
    assert again["attempts"] == [] and again["rekeyed"] == 0


def test_the_api_defaults_to_a_dry_run(fixed, token_client):
    assert token_client("catalog").post(API, {}, format="json").json()["dry_run"] is True
    assert Attempt.objects.get(pk=fixed.pk).passed is True


def test_the_api_needs_the_catalog_scope(fixed, token_client, anon):
    assert anon.post(API, {}, format="json").status_code == 401
    assert token_client("releases").post(API, {}, format="json").status_code == 403


def test_the_api_answers_404_and_400(fixed, token_client):
    client = token_client("catalog")
    assert (
        client.post(
            f"/api/v1/courses/{SLUG}/questions/nope/regrade/", {}, format="json"
        ).status_code
        == 404
    )
    assert (
        client.post("/api/v1/courses/nope/questions/edits/regrade/", {}, format="json").status_code
        == 404
    )
    bad = client.post(API, {"version": 0}, format="json")
    assert bad.status_code == 400 and "version" in bad.json()
