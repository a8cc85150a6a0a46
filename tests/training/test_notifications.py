from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from courses.models import Release
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    ReleaseFactory,
    SdkFactory,
    UserFactory,
)
from training.models import Assignment, Notification
from training.services.notifications import send_escalations, send_reminders

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def due_in_60h(engineer):
    return AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(title="RTM Android 2.4"),
        assigned_at=NOW - timedelta(days=5),
        due_at=NOW + timedelta(hours=60),
    )


@time_machine.travel(NOW, tick=False)
def test_a_reminder_is_sent_once_even_when_the_task_runs_twice(due_in_60h):
    assert send_reminders() == 1
    assert send_reminders() == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "RTM Android 2.4" in message.subject
    # Due 2026-12-03 21:00 UTC is 2026-12-04 05:00 in Shanghai: the engineer's own time.
    assert "04 Dec 2026, 05:00 CST" in message.body
    assert Notification.objects.get().recipients == ["alice@example.com"]


@time_machine.travel(NOW, tick=False)
def test_only_the_nearest_reminder_is_sent_for_an_assignment_made_late(engineer):
    AssignmentFactory(engineer=engineer, assigned_at=NOW, due_at=NOW + timedelta(hours=10))
    assert send_reminders() == 1
    assert Notification.objects.get().offset_hours == 24


def test_each_reminder_offset_is_sent_once_as_the_due_date_nears(due_in_60h):
    with time_machine.travel(NOW, tick=False):
        send_reminders()
    with time_machine.travel(NOW + timedelta(hours=40), tick=False):
        send_reminders()
        send_reminders()
    assert sorted(Notification.objects.values_list("offset_hours", flat=True)) == [24, 72]
    assert len(mail.outbox) == 2


@time_machine.travel(NOW, tick=False)
def test_no_reminder_for_a_complete_or_exempt_assignment_or_an_inactive_engineer(engineer, team):
    for status in (Assignment.Status.COMPLETE, Assignment.Status.EXEMPT):
        AssignmentFactory(
            engineer=engineer,
            status=status,
            completed_at=NOW,
            assigned_at=NOW - timedelta(days=1),
            due_at=NOW + timedelta(hours=20),
        )
    AssignmentFactory(
        engineer=EngineerFactory(team=team, active=False),
        assigned_at=NOW - timedelta(days=1),
        due_at=NOW + timedelta(hours=20),
    )
    assert send_reminders() == 0
    assert mail.outbox == []


@time_machine.travel(NOW, tick=False)
def test_release_training_is_neither_reminded_nor_escalated_once_off_the_sdks_team(
    engineer, team, lead
):
    release = ReleaseFactory(sdk=team.sdks.get(), status=Release.Status.PUBLISHED)
    course = CourseFactory(release=release, title="RTM Android 3.0")
    due_soon = AssignmentFactory(
        engineer=engineer,
        course=course,
        reason=Assignment.Reason.RELEASE,
        assigned_at=NOW - timedelta(days=5),
        due_at=NOW + timedelta(hours=20),
    )
    overdue = AssignmentFactory(
        engineer=EngineerFactory(team=team, region="EMEA"),
        course=course,
        reason=Assignment.Reason.RELEASE,
        assigned_at=NOW - timedelta(days=5),
        due_at=NOW - timedelta(hours=1),
    )
    team.sdks.set([SdkFactory(slug="rtm-ios")])  # the team moved to another SDK

    assert (send_reminders(), send_escalations()) == (0, 0)
    assert not Notification.objects.filter(assignment__in=[due_soon, overdue]).exists()

    team.sdks.add(release.sdk)  # and back: reminded and escalated again
    assert (send_reminders(), send_escalations()) == (1, 1)


def test_a_slipped_due_date_gets_reminders_for_the_new_date(due_in_60h):
    with time_machine.travel(NOW, tick=False):
        send_reminders()
    Assignment.objects.filter(pk=due_in_60h.pk).update(due_at=NOW + timedelta(hours=70))
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        assert send_reminders() == 1


def test_a_reminder_whose_mail_fails_is_sent_by_the_next_run(due_in_60h, settings, monkeypatch):
    def refuse(self, messages):
        raise ConnectionRefusedError("smtp down")

    with time_machine.travel(NOW, tick=False):
        monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
        assert send_reminders() == 0
        monkeypatch.undo()
        assert send_reminders() == 1
    assert len(mail.outbox) == 1


@time_machine.travel(NOW, tick=False)
def test_overdue_assignments_are_escalated_to_the_team_leads_once(engineer, team, lead):
    second_lead = UserFactory(username="lars")
    team.leads.add(second_lead)
    AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(title="Push in 3.1"),
        assigned_at=NOW - timedelta(days=5),
        due_at=NOW - timedelta(hours=2),
    )
    AssignmentFactory(
        engineer=engineer, assigned_at=NOW - timedelta(days=5), due_at=NOW + timedelta(hours=2)
    )

    assert send_escalations() == 1
    assert send_escalations() == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["lars@example.com", "lena@example.com"]
    assert "Push in 3.1" in message.body and "Alice Chen" in message.body
