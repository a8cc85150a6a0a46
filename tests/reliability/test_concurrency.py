"""Races over HTTP on PostgreSQL: requests in threads, each with its own connection,
released together by a barrier.

- one quiz attempt submitted twice at once (two tabs, a double click) is graded once;
- the same engineer posted by two HR syncs at once is one user and one engineer;
- a course PUT racing the release's publish ends consistent: every course of the
  release assigned to every in-scope engineer exactly once, whichever wins;
- two releases whose versions make one course slug (4.0.0-rc.1, 4.0.0-rc-1),
  published at once, get a draft course each, with distinct slugs;
- readiness counts kept through a fan-out, people changes, a moved date, completions
  and reads at once end equal to a fresh count, with no deadlock.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import SYSTEM
from courses.models import Course, Quiz, Release
from courses.services.releases import release_record
from tests.factories import EngineerFactory, SdkFactory, SkillFactory, TeamFactory
from tests.training.quiz_course import build_quiz_course
from training.celery import app as celery_app
from training.models import Assignment, Attempt, AuditEvent, Engineer, SkillRecord
from training.readiness import release_readiness, release_readiness_fresh
from training.services import attempts as attempt_services
from training.services.assignments import release_assign_training
from training.services.attempts import attempt_start
from training.services.people import engineer_update
from training.services.progress import assignment_complete_if_done
from training.services.releases import release_reschedule
from training.services.tokens import token_issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager():
    """Tasks run in the request's thread after its commit, so the test sees their
    effect, and nothing is sent to the shared broker."""
    previous = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = previous


def race(*calls: Callable[[], object]) -> list:
    """Run the calls at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _token_client(*scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + token_issue(name="c", scopes=list(scopes))[1])
    return client


# --- one attempt, two submissions ------------------------------------------------------


def _form(attempt: Attempt, *, right: bool) -> dict[str, list[str]]:
    form = {}
    for question in attempt.snapshot["questions"]:
        keys = [c["key"] for c in question["choices"] if c["correct"] == right]
        form[f"q{question['id']}"] = keys[:1] if question["kind"] == "single" else keys
    return form


def test_one_attempt_submitted_twice_at_once_is_graded_once(engineer, eager):
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    forms = [_form(attempt, right=True), _form(attempt, right=False)]
    tabs = [Client(), Client()]
    for tab in tabs:
        tab.force_login(engineer.user)
    url = f"/attempts/{attempt.pk}/"
    grading = mock.patch.object(
        attempt_services,
        "skill_records_update_from_attempt",
        wraps=attempt_services.skill_records_update_from_attempt,
    )
    with (
        grading as skill_updates,
        mock.patch("training.tasks.notify_last_failed_attempt.apply_async") as mails,
    ):
        responses = race(
            *(lambda t=tab, f=form: t.post(url, f) for tab, form in zip(tabs, forms, strict=True))
        )

    assert [r.status_code for r in responses] == [302, 302]
    attempt.refresh_from_db()
    # One grade, of one submission's answers, took effect: a pass or a fail, not both.
    winner = 0 if attempt.passed else 1
    assert attempt.answers == {k[1:]: sorted(v) for k, v in forms[winner].items()}
    assert attempt.score == (100 if attempt.passed else 0)
    assert skill_updates.call_count == (1 if attempt.passed else 0)
    assert mails.call_count == (0 if attempt.passed else 1)
    assert SkillRecord.objects.filter(engineer=engineer).count() == (2 if attempt.passed else 0)
    assert Attempt.objects.filter(engineer=engineer).count() == 1
    # Both tabs then show the one result.
    for tab in tabs:
        page = tab.get(url)
        assert page.status_code == 200
        assert f"{attempt.score}%" in page.text


# --- two HR syncs, one engineer ------------------------------------------------------


def test_the_same_engineer_posted_by_concurrent_hr_syncs_is_one_user(team, eager):
    syncs = [_token_client("people") for _ in range(8)]
    body = {"username": "zhang.wei", "name": "Zhang Wei", "team": "apac-rtm", "region": "APAC"}

    responses = race(
        *(
            lambda c=client, i=i: c.post(
                "/api/v1/engineers/", {**body, "email": f"zw{i}@example.com"}, format="json"
            )
            for i, client in enumerate(syncs)
        )
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 7 + [201], [r.content for r in responses]
    assert get_user_model().objects.filter(username="zhang.wei").count() == 1
    engineer = Engineer.objects.select_related("user").get(user__username="zhang.wei")
    # The last writer's email stands, whole: one of those sent, not a mixture.
    assert engineer.user.email in {f"zw{i}@example.com" for i in range(8)}
    assert (engineer.team.slug, engineer.region, engineer.name) == ("apac-rtm", "APAC", "Zhang Wei")


def test_overlapping_bulk_batches_at_once_make_each_engineer_once(team, eager):
    # Four HR syncs post batches that share half their usernames, at once: every
    # username ends as one user and one engineer, every item is answered (created,
    # updated or, if the database refused it even item by item, an error: no 500).
    syncs = [_token_client("people") for _ in range(4)]

    def batch(n: int) -> list[dict]:
        shared = [f"shared{i:03d}" for i in range(60)]
        own = [f"own{n}-{i:03d}" for i in range(60)]
        return [
            {"username": name, "team": "apac-rtm", "region": "APAC", "tier": f"L{n % 3 + 1}"}
            for name in (shared if n % 2 else shared[::-1]) + own
        ]

    responses = race(
        *(
            lambda c=client, n=n: c.post("/api/v1/engineers/bulk/", batch(n), format="json")
            for n, client in enumerate(syncs)
        )
    )

    assert [r.status_code for r in responses] == [200] * 4, [r.content[:300] for r in responses]
    answers = [r.json() for r in responses]
    assert all(a["created"] + a["updated"] + len(a["errors"]) == 120 for a in answers), answers
    assert sum(a["created"] for a in answers) == 60 + 4 * 60
    users = get_user_model().objects.filter(username__startswith="shared")
    assert users.count() == 60
    assert Engineer.objects.filter(user__in=users).count() == 60
    assert Assignment.objects.filter(engineer__user__in=users).count() == 0  # no course yet


# --- a course PUT racing a publish -------------------------------------------------------

ROUNDS = 6


@pytest.fixture
def android_team(transactional_db):
    android = SdkFactory(slug="rtm-android")
    SkillFactory(slug="message-ordering")
    team = TeamFactory(slug="sun", sdks=[android])
    return android, {EngineerFactory(team=team, region=r).pk for r in ("APAC", "EMEA", "AMER")}


def _course_document(version: str) -> dict:
    return {
        "title": f"RTM Android {version}",
        "release": {"sdk": "rtm-android", "version": version},
        "lessons": [{"title": "What is new", "body": "…", "feature": "message-edit"}],
    }


def test_a_course_put_racing_a_publish_ends_consistent(android_team, eager):
    android, in_scope = android_team
    author, pipeline = _token_client("catalog"), _token_client("releases")
    for n in range(ROUNDS):
        version = f"2.{n}.0"
        release, _ = release_record(
            sdk=android,
            version=version,
            customer_available_at=timezone.now() + timedelta(days=10),
            notes="",
            features=[{"key": "message-edit", "title": "Edit", "skills": ["message-ordering"]}],
            actor=SYSTEM,
        )
        put, publish = race(
            lambda v=version: author.put(
                f"/api/v1/courses/course-{v.replace('.', '-')}/", _course_document(v), format="json"
            ),
            lambda v=version: pipeline.post(f"/api/v1/releases/rtm-android/{v}/publish/"),
        )

        assert (put.status_code, publish.status_code) == (201, 202), (put.content, publish.content)
        release.refresh_from_db()
        assert release.status == Release.Status.PUBLISHED
        courses = list(Course.objects.filter(release=release))
        assert f"course-{version.replace('.', '-')}" in {c.slug for c in courses}
        # Whichever won, every course of the release reached every engineer, once.
        for course in courses:
            assigned = Assignment.objects.filter(course=course, release=release)
            assert set(assigned.values_list("engineer_id", flat=True)) == in_scope, (
                f"round {n}: {course.slug} assigned to {assigned.count()} of {len(in_scope)}"
            )
            assert assigned.count() == len(in_scope)
        published = AuditEvent.objects.filter(
            release=release, kind=AuditEvent.Kind.RELEASE_PUBLISHED
        )
        assert published.count() == 1


def test_colliding_draft_course_slugs_published_at_once_get_distinct_courses(android_team, eager):
    android, _ = android_team
    pipeline = _token_client("releases")
    for n in range(ROUNDS):
        versions = [f"4.{n}.0-rc.1", f"4.{n}.0-rc-1"]
        for version in versions:
            release_record(
                sdk=android,
                version=version,
                customer_available_at=timezone.now() + timedelta(days=10),
                notes="",
                features=[],
                actor=SYSTEM,
            )

        answers = race(
            *(
                lambda v=version: pipeline.post(f"/api/v1/releases/rtm-android/{v}/publish/")
                for version in versions
            )
        )

        assert [a.status_code for a in answers] == [202, 202], [a.content for a in answers]
        slugs = sorted(slug for answer in answers for slug in answer.json()["courses"])
        assert slugs == [f"rtm-android-4-{n}-0-rc-1", f"rtm-android-4-{n}-0-rc-1-2"]


def test_readiness_kept_through_racing_writes_matches_a_fresh_count(team):
    """A fan-out, engineers changing region, a customer date moving, completions and
    readers, all at once: nothing deadlocks (the fan-out's commit takes KEY SHARE on
    every engineer and the release while others lock them and wait on its readiness
    snapshot), and the counts kept at the end are what a fresh count says."""
    release, _ = release_record(
        sdk=team.sdks.get(),
        version="6.0.0",
        customer_available_at=timezone.now() + timedelta(days=10),
        notes="",
        features=[],
        actor=SYSTEM,
    )
    Release.objects.filter(pk=release.pk).update(
        status=Release.Status.PUBLISHED, published_at=timezone.now()
    )
    release.refresh_from_db()
    course = Course.objects.create(slug="rtm-6", title="RTM 6", release=release)
    quiz = Quiz.objects.create(course=course)  # a release course counts only with a quiz
    engineers = [
        EngineerFactory(team=team, region=("APAC", "EMEA", "AMER")[n % 3]) for n in range(600)
    ]
    first = engineers[:30]
    Attempt.objects.bulk_create(
        Attempt(
            engineer=engineer,
            quiz=quiz,
            number=1,
            pass_mark=80,
            snapshot={},
            submitted_at=timezone.now(),
            score=100,
            passed=True,
        )
        for engineer in first
    )
    release_assign_training(release=release, engineer_ids=[e.pk for e in first])
    release_readiness(release)  # kept from here on

    def fan_out():
        return release_assign_training(release=release)

    def move(engineer):
        return lambda: engineer_update(engineer=engineer, actor=SYSTEM, region="AMER")

    def complete(chunk):
        def run():
            for engineer in chunk:
                assignment = Assignment.objects.select_related("engineer", "course").get(
                    engineer=engineer, course=course
                )
                assignment_complete_if_done(assignment=assignment)
                release_readiness(release)

        return run

    def reschedule():
        return release_reschedule(
            release=release, customer_available_at=timezone.now() + timedelta(days=9), actor=SYSTEM
        )

    def read():
        return [release_readiness(release)["required"] for _ in range(20)]

    race(
        fan_out,
        move(engineers[-3]),
        move(engineers[-2]),
        complete(first[:15]),
        complete(first[15:]),
        reschedule,
        read,
    )

    kept, fresh = release_readiness(release), release_readiness_fresh(release)
    assert kept == fresh
    assert (kept["required"], kept["complete"]) == (600, 30)
    assert kept["regions"]["AMER"]["required"] == 202
