"""A lead's exceptions for one person: more attempts, a later due date (services)."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from core.actors import SYSTEM, Actor
from core.errors import Conflict, InvalidInput
from tests.factories import EngineerFactory
from tests.training.quiz_course import build_quiz_course
from tests.training.test_attempts import answers_for, first_prompt
from training.models import Assignment, AuditEvent, ReadinessSnapshot
from training.readiness import release_readiness
from training.selectors.attempt_limits import with_attempt_figures
from training.services.attempts import attempt_start, attempt_submit
from training.services.extensions import assignment_extend, assignment_grant_attempts
from training.services.releases import release_reschedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_lead(lead):
    return Actor(user=lead)


def fail(engineer, qc):
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    return attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))


def figures(assignment):
    return with_attempt_figures(Assignment.objects.filter(pk=assignment.pk)).values(
        "attempts_used", "attempts_allowed", "locked_out"
    )[0]


# --- granting attempts -----------------------------------------------------------


def test_a_locked_out_engineer_can_start_another_attempt_after_a_grant(engineer, as_lead):
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    fail(engineer, qc)
    assert figures(qc.assignment) == {"attempts_used": 1, "attempts_allowed": 1, "locked_out": True}
    with pytest.raises(Conflict):
        attempt_start(engineer=engineer, quiz=qc.quiz)

    assignment_grant_attempts(
        assignment=qc.assignment, extra=1, reason="Was on call during the quiz", actor=as_lead
    )

    assert figures(qc.assignment) == {
        "attempts_used": 1,
        "attempts_allowed": 2,
        "locked_out": False,
    }
    assert attempt_start(engineer=engineer, quiz=qc.quiz).number == 2


def test_a_grant_adds_to_earlier_grants_and_is_audited_with_before_and_after(engineer, as_lead):
    qc = build_quiz_course(engineer=engineer)
    assignment_grant_attempts(assignment=qc.assignment, extra=2, reason="first", actor=as_lead)
    assignment = assignment_grant_attempts(
        assignment=qc.assignment, extra=1, reason="second", actor=as_lead
    )

    assert assignment.extra_attempts == 3
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_ATTEMPTS_GRANTED).first()
    assert event.actor == as_lead.user
    assert event.assignment_id == qc.assignment.pk
    assert event.release_id == qc.release.pk
    assert event.details == {
        "course": qc.course.slug,
        "engineer": "alice",
        "extra": 1,
        "extra_attempts_before": 2,
        "extra_attempts_after": 3,
        "reason": "second",
        "by": "lena",
    }


@pytest.mark.parametrize("extra", [0, 11, -1, True, "2"])
def test_a_grant_of_zero_or_more_than_ten_attempts_names_extra(engineer, as_lead, extra):
    qc = build_quiz_course(engineer=engineer)
    with pytest.raises(InvalidInput) as caught:
        assignment_grant_attempts(assignment=qc.assignment, extra=extra, reason="x", actor=as_lead)
    assert list(caught.value.detail) == ["extra"]
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_grant_without_a_reason_names_reason_and_changes_nothing(engineer, as_lead, reason):
    qc = build_quiz_course(engineer=engineer)
    with pytest.raises(InvalidInput) as caught:
        assignment_grant_attempts(assignment=qc.assignment, extra=1, reason=reason, actor=as_lead)
    assert list(caught.value.detail) == ["reason"]
    qc.assignment.refresh_from_db()
    assert qc.assignment.extra_attempts == 0


@pytest.mark.parametrize("status", [Assignment.Status.COMPLETE, Assignment.Status.EXEMPT])
def test_a_finished_assignment_gets_neither_attempts_nor_time(engineer, as_lead, status):
    qc = build_quiz_course(engineer=engineer)
    Assignment.objects.filter(pk=qc.assignment.pk).update(
        status=status, completed_at=timezone.now()
    )
    with pytest.raises(Conflict):
        assignment_grant_attempts(assignment=qc.assignment, extra=1, reason="x", actor=as_lead)
    with pytest.raises(Conflict):
        assignment_extend(
            assignment=qc.assignment,
            due_at=timezone.now() + timedelta(days=9),
            reason="x",
            actor=as_lead,
        )
    assert not AuditEvent.objects.exists()


def test_a_grant_mails_the_engineer_in_their_language_after_commit(
    engineer, as_lead, mailoutbox, django_capture_on_commit_callbacks
):
    engineer.language = "zh-hans"
    engineer.save(update_fields=["language"])
    qc = build_quiz_course(engineer=engineer, title="RTM 2.4")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assignment_grant_attempts(
            assignment=qc.assignment, extra=1, reason="网络故障", actor=as_lead
        )
    assert mailoutbox == []
    for callback in callbacks:
        callback()

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@example.com"]
    assert "RTM 2.4" in message.subject
    assert "lena" in message.body
    assert "网络故障" in message.body
    assert "次" in message.body  # written in Chinese


def test_the_last_failed_attempt_counts_the_granted_ones(
    engineer, as_lead, mailoutbox, django_capture_on_commit_callbacks
):
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    assignment_grant_attempts(assignment=qc.assignment, extra=1, reason="x", actor=as_lead)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = fail(engineer, qc)
    assert first.lead_notice == ""  # one attempt still left: the leads are not told
    with django_capture_on_commit_callbacks(execute=True):
        second = fail(engineer, qc)
    assert second.lead_notice != ""


# --- extending the due date -------------------------------------------------------


def test_an_extension_moves_one_due_date_marks_it_and_is_audited(engineer, as_lead):
    qc = build_quiz_course(engineer=engineer)
    before = qc.assignment.due_at
    new_due = timezone.now() + timedelta(days=10)

    assignment = assignment_extend(
        assignment=qc.assignment, due_at=new_due, reason="Parental leave", actor=as_lead
    )

    assert assignment.due_at == new_due
    assert assignment.extended_at is not None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ASSIGNMENT_EXTENDED)
    assert event.details["due_at_before"] == before.isoformat()
    assert event.details["due_at_after"] == new_due.isoformat()
    assert (event.details["reason"], event.details["by"], event.actor) == (
        "Parental leave",
        "lena",
        as_lead.user,
    )


def test_an_extension_across_a_dst_change_keeps_the_instant(engineer, as_lead):
    qc = build_quiz_course(engineer=engineer)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    # The day after the clocks go back in Berlin, 09:00 local is 08:00 UTC.
    year = timezone.now().year + 1
    new_due = datetime(year, 10, 30, 9, 0, tzinfo=berlin)

    assignment = assignment_extend(
        assignment=qc.assignment, due_at=new_due, reason="x", actor=as_lead
    )

    assignment.refresh_from_db()
    assert assignment.due_at == new_due
    assert assignment.due_at.astimezone(berlin).hour == 9


@pytest.mark.parametrize(
    "due_at",
    [
        lambda: timezone.now() - timedelta(minutes=1),
        lambda: timezone.now().replace(tzinfo=None) + timedelta(days=3),
        lambda: "2030-01-01T00:00:00Z",
    ],
    ids=["past", "naive", "not-a-datetime"],
)
def test_an_extension_to_the_past_or_without_an_offset_names_due_at(engineer, as_lead, due_at):
    qc = build_quiz_course(engineer=engineer)
    with pytest.raises(InvalidInput) as caught:
        assignment_extend(assignment=qc.assignment, due_at=due_at(), reason="x", actor=as_lead)
    assert list(caught.value.detail) == ["due_at"]


def test_an_extension_without_a_reason_names_reason(engineer, as_lead):
    qc = build_quiz_course(engineer=engineer)
    with pytest.raises(InvalidInput) as caught:
        assignment_extend(
            assignment=qc.assignment,
            due_at=timezone.now() + timedelta(days=9),
            reason=" ",
            actor=as_lead,
        )
    assert list(caught.value.detail) == ["reason"]


def test_an_extension_of_overdue_training_shows_in_readiness_at_once(engineer, as_lead):
    qc = build_quiz_course(engineer=engineer, due_at=timezone.now() + timedelta(hours=1))
    Assignment.objects.filter(pk=qc.assignment.pk).update(
        assigned_at=timezone.now() - timedelta(days=2),
        due_at=timezone.now() - timedelta(hours=1),
    )
    assert release_readiness(qc.release)["overdue"] == 1
    version = ReadinessSnapshot.objects.get(release=qc.release).version

    assignment_extend(
        assignment=qc.assignment,
        due_at=timezone.now() + timedelta(days=2),
        reason="Sick leave",
        actor=as_lead,
    )

    assert ReadinessSnapshot.objects.get(release=qc.release).version > version
    assert release_readiness(qc.release)["overdue"] == 0


# --- a slip of the customer date -------------------------------------------------


@pytest.fixture
def pair(engineer, team):
    """alice with an extension to 20 days from now; bob with the release's date."""
    qc = build_quiz_course(engineer=engineer)
    bob = EngineerFactory(user__username="bob", team=team)
    bobs = Assignment.objects.create(
        engineer=bob,
        course=qc.course,
        release=qc.release,
        reason=Assignment.Reason.RELEASE,
        due_at=qc.release.due_at,
    )
    Assignment.objects.filter(pk=qc.assignment.pk).update(due_at=qc.release.due_at)
    extended = timezone.now() + timedelta(days=20)
    assignment_extend(assignment=qc.assignment, due_at=extended, reason="x", actor=SYSTEM)
    return qc, bobs, extended


def test_a_slip_leaves_an_extended_due_date_alone(pair):
    qc, bobs, extended = pair
    slipped = qc.release.customer_available_at + timedelta(days=3)

    release_reschedule(release=qc.release, customer_available_at=slipped, actor=SYSTEM)

    qc.assignment.refresh_from_db()
    bobs.refresh_from_db()
    assert qc.assignment.due_at == extended
    assert bobs.due_at == slipped - timedelta(hours=48)


def test_a_slip_earlier_leaves_an_extended_due_date_alone(pair):
    qc, _, extended = pair
    release_reschedule(
        release=qc.release,
        customer_available_at=qc.release.customer_available_at - timedelta(days=1),
        actor=SYSTEM,
    )
    qc.assignment.refresh_from_db()
    assert qc.assignment.due_at == extended


def test_a_slip_past_the_extension_moves_it_with_the_release(pair):
    qc, _, extended = pair
    slipped = extended + timedelta(days=5)

    release_reschedule(release=qc.release, customer_available_at=slipped, actor=SYSTEM)

    qc.assignment.refresh_from_db()
    assert qc.assignment.due_at == slipped - timedelta(hours=48)
    assert qc.assignment.extended_at is None
