"""Releases waiting on a course: authors are mailed once, leads and the admin list
them, engineers read the draft as a preview that completes nothing."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.actors import SYSTEM
from courses.models import Course, Release
from tests.factories import (
    EngineerFactory,
    FeatureFactory,
    QuizFactory,
    ReleaseFactory,
    UserFactory,
)
from training.models import Assignment, AuditEvent
from training.selectors.authoring import releases_waiting_on_course
from training.services.assignments import release_assign_training
from training.services.authoring import authors_notify_course_needed
from training.services.releases import release_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(db):
    return UserFactory(username="ada", email="ada@example.com", is_staff=True)


@pytest.fixture
def drafted(sdk, team, author, django_capture_on_commit_callbacks):
    release = ReleaseFactory(
        sdk=sdk, version="2.7.0", customer_available_at=timezone.now() + timedelta(days=10)
    )
    FeatureFactory(release=release, key="message-edit", title="Edit sent messages")
    with django_capture_on_commit_callbacks(execute=True):
        release_publish(release=release, actor=SYSTEM)
    return Release.objects.get(pk=release.pk)


def test_publishing_without_a_course_mails_the_authors_once(drafted, author):
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.com"]
    assert "rtm-android 2.7.0 is waiting on its course" in mail.outbox[0].subject
    assert "rtm-android-2-7-0" in mail.outbox[0].body

    assert authors_notify_course_needed(release_id=drafted.pk) == 0  # a retried task
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.AUTHORS_TOLD).count() == 1


def test_no_mail_once_the_course_is_published(sdk, author):
    release = ReleaseFactory(sdk=sdk, version="2.8.0", status=Release.Status.PUBLISHED)
    Course.objects.create(slug="c", title="C", release=release, status=Course.Status.PUBLISHED)
    assert authors_notify_course_needed(release_id=release.pk) == 0
    assert mail.outbox == []


def ready_course(release, slug):
    course = Course.objects.create(
        slug=slug, title=slug, release=release, status=Course.Status.PUBLISHED
    )
    QuizFactory(course=course)
    return course


def test_waiting_releases_come_soonest_customer_date_first(sdk, drafted):
    ReleaseFactory(
        sdk=sdk,
        version="2.6.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=timezone.now() + timedelta(days=2),
    )  # no course at all
    quizless = ReleaseFactory(
        sdk=sdk,
        version="2.9.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=timezone.now() + timedelta(days=20),
    )
    Course.objects.create(slug="quizless", title="Q", release=quizless, status="published")
    ready_course(ReleaseFactory(sdk=sdk, version="2.5.0", status="published"), "ok")

    waiting = releases_waiting_on_course()

    assert [(item.release.version, item.courses) for item in waiting] == [
        ("2.6.0", ()),
        ("2.7.0", ("rtm-android-2-7-0",)),
        ("2.9.0", ("quizless",)),
    ]


def test_the_lead_home_lists_releases_waiting_on_a_course(client, lead, drafted):
    client.force_login(lead)
    html = client.get(reverse("lead_home")).text
    assert "Waiting on a course" in html
    assert "draft or quiz-less: rtm-android-2-7-0" in html
    assert "the course for rtm-android 2.7.0 has no quiz yet" in html.lower()


def test_the_release_admin_filters_releases_waiting_on_a_course(client, author, drafted, sdk):
    author.is_superuser = True
    author.save()
    client.force_login(author)
    ready = ReleaseFactory(sdk=sdk, version="1.0.0", status=Release.Status.PUBLISHED)
    ready_course(ready, "ready")
    html = client.get(reverse("admin:courses_release_changelist") + "?waiting=yes").text
    assert "2.7.0" in html and ready.version not in html.split("result_list")[-1]


def test_an_engineer_reads_a_draft_course_as_a_preview_that_completes_nothing(
    client, drafted, team
):
    engineer = EngineerFactory(team=team, region="APAC")
    release_assign_training(release=drafted)
    assignment = Assignment.objects.get(engineer=engineer)
    client.force_login(engineer.user)

    page = client.get(reverse("assignment", args=[assignment.pk])).text
    assert "Preview" in page and "does not complete your training" in page
    for lesson in assignment.course.lessons.all():
        client.post(reverse("lesson_read", args=[assignment.pk, lesson.position]))

    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.IN_PROGRESS
