"""Pages: a lead grants an attempt or extends a due date from the release page; the
engineer's dashboard says who assigned what and why, and what a lead allowed."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.actors import Actor
from tests.factories import AssignmentFactory, CourseFactory
from tests.training.quiz_course import build_quiz_course
from tests.training.test_attempts import answers_for, first_prompt
from training.models import Assignment, AuditEvent
from training.services.attempts import attempt_start, attempt_submit
from training.services.extensions import assignment_extend, assignment_grant_attempts

pytestmark = pytest.mark.django_db


@pytest.fixture
def qc(engineer):
    return build_quiz_course(engineer=engineer, max_attempts=1)


@pytest.fixture
def lead_client(client, lead, team):
    client.force_login(lead)
    return client


def release_url(qc) -> str:
    return reverse("lead_release", args=[qc.release.sdk.slug, qc.release.version])


def fail(engineer, qc) -> None:
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))


def row_status(html: str, username: str) -> str:
    match = re.search(
        rf'<tr class="row-(\w+)">\s*<th scope="row">(?:<a [^>]*>[^<]*</a>)?'
        rf"[^<]*<span[^>]*>{username}<",
        html,
    )
    assert match, f"no row for {username}"
    return match.group(1)


# --- locked out ------------------------------------------------------------------------


def test_a_locked_out_engineer_shows_as_locked_out_not_in_progress(lead_client, engineer, qc):
    assert row_status(lead_client.get(release_url(qc)).text, "alice") == "assigned"
    fail(engineer, qc)

    html = lead_client.get(release_url(qc)).text

    assert row_status(html, "alice") == "locked_out"
    assert "Locked out" in html


def test_the_status_filter_finds_the_locked_out(lead_client, engineer, qc):
    fail(engineer, qc)
    table = lambda html: html[html.index("engineer-table") :]  # noqa: E731

    assert "alice" in table(lead_client.get(release_url(qc), {"status": "locked_out"}).text)
    html = lead_client.get(release_url(qc), {"status": "in_progress"}).text
    assert "No engineer matches these filters." in html


# --- granting from the release page ---------------------------------------------------


def test_a_lead_grants_an_attempt_from_the_release_page_and_comes_back(lead_client, engineer, qc):
    fail(engineer, qc)
    back = release_url(qc) + "?status=locked_out"

    response = lead_client.post(
        reverse("lead_assignment_grant", args=[qc.assignment.pk]),
        {"extra": "1", "reason": "Network outage", "next": back},
    )

    assert response.status_code == 302
    assert response["Location"] == back
    page = lead_client.get(release_url(qc)).text
    assert "may now take the quiz" in page
    assert row_status(page, "alice") == "in_progress"
    assert (
        AuditEvent.objects.get(kind=AuditEvent.Kind.ASSIGNMENT_ATTEMPTS_GRANTED).actor.username
        == "lena"
    )
    assert attempt_start(engineer=engineer, quiz=qc.quiz).number == 2


def test_the_release_page_offers_both_actions_with_csrf(lead_client, engineer, qc):
    html = lead_client.get(release_url(qc)).text

    grant = reverse("lead_assignment_grant", args=[qc.assignment.pk])
    extend = reverse("lead_assignment_extend", args=[qc.assignment.pk])
    assert f'action="{grant}"' in html and f'action="{extend}"' in html
    assert "Grant an attempt" in html and 'name="csrfmiddlewaretoken"' in html


@pytest.mark.parametrize(
    "body",
    [{"extra": "1", "reason": "  "}, {"extra": "0", "reason": "x"}, {"extra": "lots"}],
    ids=["blank-reason", "zero", "garbage"],
)
def test_a_bad_grant_is_a_form_error_on_the_release_page(lead_client, qc, body):
    response = lead_client.post(reverse("lead_assignment_grant", args=[qc.assignment.pk]), body)

    assert response.status_code == 400
    assert 'id="row-action"' in response.text
    assert 'class="errors"' in response.text
    assert not AuditEvent.objects.exists()


def test_a_grant_on_a_complete_assignment_says_why_and_comes_back(lead_client, qc):
    Assignment.objects.filter(pk=qc.assignment.pk).update(
        status=Assignment.Status.COMPLETE, completed_at=timezone.now()
    )
    response = lead_client.post(
        reverse("lead_assignment_grant", args=[qc.assignment.pk]), {"extra": "1", "reason": "x"}
    )
    assert response.status_code == 302
    assert "is complete" in lead_client.get(response["Location"]).text


def test_row_actions_answer_only_post(lead_client, qc):
    for name in ("lead_assignment_grant", "lead_assignment_extend"):
        assert lead_client.get(reverse(name, args=[qc.assignment.pk])).status_code == 405


def test_another_teams_lead_and_an_engineer_get_404(client, engineer, outsider, qc):
    for user in (outsider.team.leads.get(), engineer.user):
        client.force_login(user)
        for name in ("lead_assignment_grant", "lead_assignment_extend"):
            response = client.post(
                reverse(name, args=[qc.assignment.pk]),
                {"extra": "1", "reason": "x", "due_at": "2099-01-01T09:00"},
            )
            assert response.status_code == 404
    assert not AuditEvent.objects.exists()


# --- extending from the release page --------------------------------------------------


def test_a_lead_extends_a_due_date_read_in_their_own_time_zone(lead_client, lead, team, qc):
    # The lead is an engineer in Berlin: the form's time is Berlin time.
    from tests.factories import EngineerFactory

    EngineerFactory(user=lead, team=team, timezone="Europe/Berlin")
    year = timezone.now().year + 1

    response = lead_client.post(
        reverse("lead_assignment_extend", args=[qc.assignment.pk]),
        {"due_at": f"{year}-07-01T09:00", "reason": "Parental leave"},
    )

    assert response.status_code == 302
    qc.assignment.refresh_from_db()
    assert qc.assignment.due_at.isoformat() == f"{year}-07-01T07:00:00+00:00"
    assert qc.assignment.extended_at is not None


@pytest.mark.parametrize(
    "body",
    [
        {"due_at": "2001-01-01T09:00", "reason": "x"},
        {"due_at": "not a date", "reason": "x"},
        {"due_at": "2099-01-01T09:00", "reason": ""},
    ],
    ids=["past", "garbage", "no-reason"],
)
def test_a_bad_extension_is_a_form_error_never_a_500(lead_client, qc, body):
    response = lead_client.post(reverse("lead_assignment_extend", args=[qc.assignment.pk]), body)

    assert response.status_code == 400
    assert 'id="row-action"' in response.text
    assert not AuditEvent.objects.exists()


# --- the engineer's dashboard ------------------------------------------------------------


def test_the_dashboard_says_who_assigned_it_and_why(client, engineer, lead):
    AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(title="Push basics"),
        assigned_by=lead,
        note="Before your first night shift",
    )
    client.force_login(engineer.user)

    html = client.get(reverse("home")).text

    assert "Assigned by lena: Before your first night shift" in html


def test_the_dashboard_shows_granted_attempts_and_extensions(client, engineer, lead, qc):
    actor = Actor(user=lead)
    assignment_grant_attempts(
        assignment=qc.assignment, extra=1, reason="Network outage", actor=actor
    )
    assignment_extend(
        assignment=qc.assignment,
        due_at=timezone.now() + timedelta(days=9),
        reason="Sick leave",
        actor=actor,
    )
    client.force_login(engineer.user)

    html = client.get(reverse("home")).text

    assert "lena granted you 1 more attempt at" in html
    assert "Network outage" in html
    assert "lena moved your due date" in html and "Sick leave" in html
    assert "1 attempt granted" in html and "Due date extended" in html


def test_the_quiz_page_counts_the_granted_attempts(client, engineer, lead, qc):
    fail(engineer, qc)
    client.force_login(engineer.user)
    assert (
        "You have used every attempt" in client.get(reverse("quiz", args=[qc.assignment.pk])).text
    )

    assignment_grant_attempts(assignment=qc.assignment, extra=2, reason="x", actor=Actor(user=lead))

    html = client.get(reverse("quiz", args=[qc.assignment.pk])).text
    assert "At most 3 attempts" in html
    assert "Try again" in html


def test_a_note_written_on_the_assign_form_reaches_the_engineers_dashboard(
    client, lead, team, engineer
):
    from courses.models import Course

    CourseFactory(slug="push-basics", title="Push basics", status=Course.Status.PUBLISHED)
    client.force_login(lead)
    response = client.post(
        reverse("lead_assign"),
        {
            "course": "push-basics",
            "engineers": [engineer.pk],
            "due_at": "2099-03-01T09:00",
            "note": "Customers ask about it daily",
        },
    )
    assert response.status_code == 302

    client.force_login(engineer.user)
    html = client.get(reverse("home")).text

    assert "Assigned by lena: Customers ask about it daily" in html
