"""The lead's engineer page, the nudge, and a lead's own time zone and language."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.actors import Actor
from core.errors import Conflict
from courses.models import Course, Skill
from tests.factories import EngineerFactory, UserFactory
from tests.training.quiz_course import build_quiz_course
from tests.training.test_extensions import fail
from training.models import Assignment, AuditEvent, LessonProgress, PersonPreferences, SkillRecord
from training.services.nudges import assignment_nudge
from training.services.preferences import person_preferences_set

pytestmark = pytest.mark.django_db


def page(engineer) -> str:
    return reverse("lead_engineer", args=[engineer.user.username])


@pytest.fixture
def qc(engineer):
    return build_quiz_course(engineer=engineer, max_attempts=1)


def signed_in(client, user):
    client.force_login(user)
    return client


# --- the engineer page -------------------------------------------------------------


def test_a_lead_sees_their_engineers_profile_assignments_skills_and_activity(
    client, lead, engineer, qc
):
    fail(engineer, qc)  # one attempt allowed: locked out
    LessonProgress.objects.create(engineer=engineer, lesson=qc.lessons[0])
    SkillRecord.objects.create(
        engineer=engineer, skill=Skill.objects.create(slug="push", name="Push"), level=3
    )
    assignment_nudge(assignment=qc.assignment, actor=Actor(user=lead), message="Before Friday")
    response = signed_in(client, lead).get(page(engineer))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Alice Chen", "APAC RTM", "Asia/Shanghai", "Locked out", "1 of 1", "Push"):
        assert text in body, text
    assert qc.lessons[0].title in body  # lessons read
    assert "Failed the quiz" in body
    assert "lena sent a reminder about" in body and "Before Friday" in body
    assert f"{reverse('lead_assign')}?engineer=alice" in body
    assert reverse("lead_assignment_grant", args=[qc.assignment.pk]) in body
    assert reverse("lead_assignment_extend", args=[qc.assignment.pk]) in body


def test_another_teams_engineer_is_a_404_for_a_lead(client, lead, engineer, outsider):
    assert signed_in(client, lead).get(page(outsider)).status_code == 404
    assert client.get(reverse("lead_engineer", args=["nobody"])).status_code == 404


def test_an_engineer_who_leads_nothing_gets_a_404(client, engineer, outsider):
    assert signed_in(client, engineer.user).get(page(engineer)).status_code == 404
    assert client.get(page(outsider)).status_code == 404


def test_staff_see_any_engineer(client, staff, outsider):
    assert signed_in(client, staff).get(page(outsider)).status_code == 200


def test_the_release_page_links_engineer_names_to_their_page(client, lead, engineer, qc):
    release = qc.release
    response = signed_in(client, lead).get(
        reverse("lead_release", args=[release.sdk.slug, release.version])
    )
    assert f'href="{page(engineer)}"' in response.content.decode()


def test_the_skill_matrix_links_engineer_names_to_their_page(client, lead, engineer):
    response = signed_in(client, lead).get(reverse("team_matrix"))
    assert f'href="{page(engineer)}"' in response.content.decode()


def test_grant_from_the_engineer_page_comes_back_to_it(client, lead, engineer, qc):
    response = signed_in(client, lead).post(
        reverse("lead_assignment_grant", args=[qc.assignment.pk]),
        {"extra": 1, "reason": "Network trouble", "next": page(engineer)},
    )
    assert response.status_code == 302 and response.url == page(engineer)
    evil = client.post(
        reverse("lead_assignment_grant", args=[qc.assignment.pk]),
        {"extra": 1, "reason": "again", "next": "https://evil.example/"},
    )
    assert not evil.url.startswith("https://evil")


def _grow(engineer, n: int) -> None:
    """`n` more assignments, skill records, lessons read and events for `engineer`."""
    now = timezone.now()
    courses = Course.objects.bulk_create(
        Course(slug=f"bulk-{n}-{i}", title=f"Bulk {i}", status=Course.Status.PUBLISHED)
        for i in range(n)
    )
    assignments = Assignment.objects.bulk_create(
        Assignment(
            engineer=engineer,
            course=course,
            reason=Assignment.Reason.LEAD,
            due_at=now + timedelta(days=3),
            note="why",
        )
        for course in courses
    )
    skills = Skill.objects.bulk_create(Skill(slug=f"s-{n}-{i}", name=f"S {i}") for i in range(n))
    SkillRecord.objects.bulk_create(
        SkillRecord(engineer=engineer, skill=skill, level=2) for skill in skills
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=AuditEvent.Kind.ASSIGNMENT_EXTENDED, assignment=a, details={"reason": "r"})
        for a in assignments
    )


@pytest.mark.parametrize("size", [10, 500])
def test_the_engineer_page_query_count_is_flat(
    client, lead, engineer, qc, size, django_assert_max_num_queries
):
    _grow(engineer, size)
    signed_in(client, lead)
    with django_assert_max_num_queries(16):
        response = client.get(page(engineer))
    assert response.status_code == 200
    assert response.content.decode().count('class="card assignment-card') == size + 1


# --- the nudge ---------------------------------------------------------------------


def test_a_nudge_mails_the_engineer_in_their_language_with_the_course_link(
    lead, engineer, qc, settings, django_capture_on_commit_callbacks
):
    settings.PREFLIGHT_SITE_URL = "https://preflight.example.com/"
    engineer.language = "zh-hans"
    engineer.save()
    with django_capture_on_commit_callbacks(execute=True):
        event = assignment_nudge(
            assignment=qc.assignment, actor=Actor(user=lead), message="请在周五前完成"
        )
    assert event.kind == AuditEvent.Kind.ASSIGNMENT_NUDGED
    assert event.actor == lead and event.details["reason"] == "请在周五前完成"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "提醒" in message.subject
    assert f"https://preflight.example.com/assignments/{qc.assignment.pk}/" in message.body
    assert "请在周五前完成" in message.body


def test_a_second_nudge_within_24_hours_is_refused_and_sends_nothing(
    lead, staff, engineer, qc, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assignment_nudge(assignment=qc.assignment, actor=Actor(user=lead), now=now)
    with pytest.raises(Conflict) as raised:
        assignment_nudge(
            assignment=qc.assignment, actor=Actor(user=staff), now=now + timedelta(hours=23)
        )
    assert raised.value.extra["code"] == "nudged_recently"
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_NUDGED).count() == 1
    # A day later, a new one goes.
    assignment_nudge(
        assignment=qc.assignment, actor=Actor(user=lead), now=now + timedelta(hours=24)
    )
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_NUDGED).count() == 2


def test_a_done_assignment_is_not_nudged(lead, engineer, qc):
    Assignment.objects.filter(pk=qc.assignment.pk).update(
        status=Assignment.Status.COMPLETE, completed_at=timezone.now()
    )
    with pytest.raises(Conflict):
        assignment_nudge(assignment=qc.assignment, actor=Actor(user=lead))


def test_the_page_nudges_once_then_says_clearly_it_was_already_sent(
    client, lead, engineer, qc, django_capture_on_commit_callbacks
):
    url = reverse("lead_assignment_nudge", args=[qc.assignment.pk])
    signed_in(client, lead)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"next": page(engineer), "message": ""}, follow=True)
    assert "Reminder sent to Alice Chen" in first.content.decode()
    second = client.post(url, {"next": page(engineer)}, follow=True)
    assert "already sent within the last 24 hours" in second.content.decode()
    assert len(mail.outbox) == 1


def test_a_lead_cannot_nudge_another_teams_engineer(client, lead, outsider):
    other = build_quiz_course(engineer=outsider, slug="web-course")
    response = signed_in(client, lead).post(
        reverse("lead_assignment_nudge", args=[other.assignment.pk])
    )
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_NUDGED).exists()


# --- a lead's time zone and language ----------------------------------------------


def test_a_lead_sets_zone_and_language_and_lead_pages_follow(client, lead, engineer, qc):
    signed_in(client, lead)
    response = client.post(
        reverse("lead_profile"), {"timezone": "America/New_York", "language": "zh-hans"}
    )
    assert response.status_code == 302
    assert PersonPreferences.objects.get(user=lead).timezone == "America/New_York"
    home = client.get(reverse("lead_home"))
    assert home["Content-Language"] == "zh-hans"
    body = client.get(page(engineer)).content.decode()
    assert "America/New_York" in body
    assert "工程师" in body or "作业" in body


def test_an_invalid_time_zone_is_a_form_error_not_a_500(client, lead, team):
    response = signed_in(client, lead).post(
        reverse("lead_profile"), {"timezone": "Mars/Olympus", "language": "en"}
    )
    assert response.status_code == 400
    assert "Mars/Olympus" in response.content.decode()  # named in the error
    assert not PersonPreferences.objects.exists()


def test_an_engineers_own_profile_wins_over_preferences(lead, team):
    from training.selectors.access import lead_scope

    person_preferences_set(user=lead, timezone_name="America/New_York", language="zh-hans")
    assert str(lead_scope(user=lead).zone) == "America/New_York"
    EngineerFactory(user=lead, team=team, timezone="Europe/Berlin", language="en")
    scope = lead_scope(user=lead)
    assert str(scope.zone) == "Europe/Berlin" and scope.language == "en"


def test_the_profile_page_is_a_404_for_someone_who_leads_nothing(client):
    assert signed_in(client, UserFactory()).get(reverse("lead_profile")).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_leads_nudging_at_once_send_one_reminder(lead, staff, engineer, mailoutbox):
    """The claim is one conditional UPDATE: the second waits for the first's row lock,
    re-reads the committed row and claims nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite's shared in-memory test database locks tables")
    qc = build_quiz_course(engineer=engineer)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def nudge(user) -> None:
        try:
            barrier.wait(timeout=5)
            assignment_nudge(assignment=qc.assignment, actor=Actor(user=user))
            outcomes.append("sent")
        except Conflict as exc:
            outcomes.append(exc.extra["code"])
        finally:
            connection.close()

    threads = [threading.Thread(target=nudge, args=(user,)) for user in (lead, staff)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["nudged_recently", "sent"]
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_NUDGED).count() == 1
    assert len(mailoutbox) == 1


def test_the_engineer_page_gives_their_local_time_not_the_leads(client, lead, engineer):
    # 10:15 UTC is 18:15 in Shanghai; the lead reads the page in UTC.
    instant = timezone.now().replace(hour=10, minute=15, second=0, microsecond=0)
    with time_machine.travel(instant, tick=False):
        body = signed_in(client, lead).get(page(engineer)).content.decode()
    assert '18:15</time> <span class="muted">Asia/Shanghai' in body


def test_a_lead_who_is_not_an_engineer_finds_the_profile_page_in_the_menu(client, lead, team):
    body = signed_in(client, lead).get(reverse("lead_home")).content.decode()
    assert f'href="{reverse("lead_profile")}"' in body
