"""Reminders before the due date and escalations to leads once overdue.

Each (assignment, kind, offset, due date) is sent exactly once: a run first claims
its rows with one INSERT ... SELECT ... ON CONFLICT DO NOTHING (a second beat tick or
a retried task claims nothing), then reads back the rows it claimed, then sends.
A row whose mail could not be sent is released again, so the next run retries it.
Only open assignments (assigned, in progress) of active engineers are ever told:
never a complete or exempt one.
"""

import logging
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from training.models import Assignment, Engineer, Notification, Team
from training.services.assignments import adapt

logger = logging.getLogger(__name__)

_NOTIFICATION = Notification._meta.db_table
_ASSIGNMENT = Assignment._meta.db_table
_ENGINEER = Engineer._meta.db_table
_OPEN = (Assignment.Status.ASSIGNED, Assignment.Status.IN_PROGRESS)


def _claim(*, kind: str, offset_hours: int, window_sql: str, window_params: list) -> uuid.UUID:
    claim = uuid.uuid4()
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_NOTIFICATION}
                (assignment_id, kind, offset_hours, due_at, recipients, sent_at, claim)
            SELECT a.id, %s, %s, a.due_at, %s, %s, %s
            FROM {_ASSIGNMENT} a
            JOIN {_ENGINEER} e ON e.id = a.engineer_id
            WHERE a.status IN (%s, %s) AND e.active = %s AND {window_sql}
            ON CONFLICT (assignment_id, kind, offset_hours, due_at) DO NOTHING
            """,
            [
                adapt(p)
                for p in [kind, offset_hours, "[]", now, claim.hex, *_OPEN, True, *window_params]
            ],
        )
    return claim


def _claimed(claim: uuid.UUID):
    return Notification.objects.filter(claim=claim).select_related(
        "assignment__engineer__user",
        "assignment__engineer__team",
        "assignment__course",
        "assignment__release__sdk",
    )


def _local(when: datetime, engineer: Engineer) -> str:
    return timezone.localtime(when, engineer.zone).strftime("%a %d %b %Y, %H:%M %Z")


def _release(notifications: list[Notification]) -> None:
    """Give back claims whose mail failed, so the next run sends them."""
    Notification.objects.filter(pk__in=[n.pk for n in notifications]).delete()


def send_reminders(*, now: datetime | None = None) -> int:
    """Remind engineers of open assignments at each PREFLIGHT_REMINDER_HOURS offset
    before their due date. Only the nearest offset that applies is sent: an
    assignment made 10 hours before its due date gets the 24-hour reminder, not the
    72-hour one as well. Returns how many reminders were sent."""
    now = now or timezone.now()
    offsets = settings.PREFLIGHT_REMINDER_HOURS  # largest first
    sent = 0
    for index, hours in enumerate(offsets):
        nearer = offsets[index + 1] if index + 1 < len(offsets) else 0
        claim = _claim(
            kind=Notification.Kind.REMINDER,
            offset_hours=hours,
            window_sql="a.due_at > %s AND a.due_at <= %s",
            window_params=[now + timedelta(hours=nearer), now + timedelta(hours=hours)],
        )
        sent += _send_reminders(list(_claimed(claim)), now=now)
    return sent


def _send_reminders(notifications: list[Notification], *, now: datetime) -> int:
    messages, failed = [], []
    for notification in notifications:
        assignment = notification.assignment
        engineer = assignment.engineer
        if not engineer.user.email:
            continue
        context = {
            "engineer": engineer,
            "assignment": assignment,
            "due_local": _local(assignment.due_at, engineer),
            "hours_left": max(int((assignment.due_at - now).total_seconds() // 3600), 0),
            "site_url": settings.PREFLIGHT_SITE_URL,
        }
        messages.append(
            mail.EmailMessage(
                subject=f"Due soon: {assignment.course.title}",
                body=render_to_string("training/email/reminder.txt", context),
                to=[engineer.user.email],
            )
        )
        notification.recipients = [engineer.user.email]
    try:
        with mail.get_connection() as connection_:
            connection_.send_messages(messages)
    except OSError:
        logger.exception("reminders could not be sent; they will be retried")
        failed = notifications
    if failed:
        _release(failed)
        return 0
    Notification.objects.bulk_update(notifications, ["recipients"])
    return len(messages)


def send_escalations(*, now: datetime | None = None) -> int:
    """Tell each team's leads, in one mail per lead, which of their engineers' open
    assignments are past due — once per assignment and due date. Returns how many
    mails were sent."""
    now = now or timezone.now()
    claim = _claim(
        kind=Notification.Kind.ESCALATION,
        offset_hours=0,
        window_sql="a.due_at <= %s",
        window_params=[now],
    )
    notifications = list(_claimed(claim))
    by_team: dict[int, list[Notification]] = defaultdict(list)
    for notification in notifications:
        team_id = notification.assignment.engineer.team_id
        if team_id is not None:
            by_team[team_id].append(notification)
    teams = Team.objects.filter(pk__in=by_team).prefetch_related("leads")
    messages = []
    for team in teams:
        leads = [lead.email for lead in team.leads.all() if lead.email]
        if not leads:
            continue
        items = sorted(by_team[team.pk], key=lambda n: n.assignment.due_at)
        for notification in items:
            notification.recipients = leads
        body = render_to_string(
            "training/email/escalation.txt",
            {"team": team, "notifications": items, "site_url": settings.PREFLIGHT_SITE_URL},
        )
        messages.append(
            mail.EmailMessage(
                subject=f"Overdue training in {team.name}: {len(items)} assignment(s)",
                body=body,
                to=leads,
            )
        )
    try:
        with mail.get_connection() as connection_:
            connection_.send_messages(messages)
    except OSError:
        logger.exception("escalations could not be sent; they will be retried")
        _release(notifications)
        return 0
    Notification.objects.bulk_update(notifications, ["recipients"])
    return len(messages)
