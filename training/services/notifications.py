"""Reminders before the due date and escalations to leads once overdue.

Each (assignment, kind, offset, due date) is sent exactly once: a run first claims
its rows with one INSERT ... SELECT ... ON CONFLICT DO NOTHING (a second beat tick or
a retried task claims nothing), then reads back the rows it claimed, then sends.
Each mail is sent on its own, and only the rows of mails that failed are released
again, so the next run retries those and never repeats one that went out (a mail
server that drops the connection half-way through a batch). Only open assignments
(assigned, in progress) of active engineers are ever told: never a complete or
exempt one, nor release training of an engineer whose team no longer supports the
release's SDK. A row is claimed only when there is someone to tell (the engineer has
an address; the team has a lead with one): a team whose leads are named later
still gets its escalations.
"""

import contextlib
import logging
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext

from courses.models import Release
from training.models import Assignment, Engineer, Notification, Team
from training.services.assignments import adapt
from training.services.mail import mail_message, person_languages, site_link

logger = logging.getLogger(__name__)

_NOTIFICATION = Notification._meta.db_table
_ASSIGNMENT = Assignment._meta.db_table
_ENGINEER = Engineer._meta.db_table
_USER = get_user_model()._meta.db_table
_TEAM_LEADS = Team.leads.through._meta.db_table
_TEAM_SDKS = Team.sdks.through._meta.db_table
_RELEASE = Release._meta.db_table
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
              -- Release training only while the engineer is in its scope: one who
              -- moved to a team off the SDK keeps the assignment, not the nagging.
              AND (a.reason <> %s OR EXISTS (
                  SELECT 1 FROM {_RELEASE} r JOIN {_TEAM_SDKS} ts ON ts.sdk_id = r.sdk_id
                  WHERE r.id = a.release_id AND ts.team_id = e.team_id
              ))
            ON CONFLICT (assignment_id, kind, offset_hours, due_at) DO NOTHING
            """,
            [
                adapt(p)
                for p in [
                    kind,
                    offset_hours,
                    "[]",
                    now,
                    claim.hex,
                    *_OPEN,
                    True,
                    *window_params,
                    Assignment.Reason.RELEASE,
                ]
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
    """`when` in the engineer's zone, written the way the active language writes it."""
    return formats.date_format(timezone.localtime(when, engineer.zone), gettext("D d M Y, H:i T"))


def _lead_languages(team: Team) -> list[str]:
    """The languages of a team's leads with an address (training.services.mail:
    an engineer profile's, else their preferences', else the default). Sorted, so
    a team's mail is written the same way every time."""
    leads = [lead.pk for lead in team.leads.all() if lead.email]
    chosen = person_languages(leads)
    return sorted({chosen.get(pk, settings.LANGUAGE_CODE) for pk in leads})


def _release(notifications: list[Notification]) -> None:
    """Give back claims whose mail failed, so the next run sends them."""
    Notification.objects.filter(pk__in=[n.pk for n in notifications]).delete()


def _deliver(batch: list[tuple[mail.EmailMultiAlternatives, list[Notification]]]) -> int:
    """Send each message of the batch on one connection, one at a time; keep the
    claims of those sent (with their recipients) and release those of the others.

    One by one because a backend's send_messages() raises at the first failure after
    sending the messages before it: releasing the whole batch would send those
    again. Returns how many messages were sent."""
    if not batch:
        return 0
    sent: list[Notification] = []
    failed: list[Notification] = []
    try:
        connection_ = mail.get_connection()
        connection_.open()
    except OSError:
        logger.exception("the mail server is unreachable; %s mails will be retried", len(batch))
        _release([n for _, notifications in batch for n in notifications])
        return 0
    count = 0
    try:
        for message, notifications in batch:
            try:
                ok = connection_.send_messages([message]) == 1
            except OSError:
                logger.exception("mail to %s failed; it will be retried", message.to)
                ok = False
            if ok:
                count += 1
                sent.extend(notifications)
            else:
                failed.extend(notifications)
    finally:
        with contextlib.suppress(OSError):
            connection_.close()
    if failed:
        _release(failed)
    Notification.objects.bulk_update(sent, ["recipients"])
    return count


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
            window_sql=f"""a.due_at > %s AND a.due_at <= %s AND EXISTS (
                SELECT 1 FROM {_USER} u WHERE u.id = e.user_id AND u.email <> ''
            )""",
            window_params=[now + timedelta(hours=nearer), now + timedelta(hours=hours)],
        )
        sent += _send_reminders(list(_claimed(claim)), now=now)
    return sent


def _send_reminders(notifications: list[Notification], *, now: datetime) -> int:
    batch = []
    for notification in notifications:
        assignment = notification.assignment
        engineer = assignment.engineer
        # In the engineer's language: a beat task has no request to take one from.
        with translation.override(engineer.language):
            message = mail_message(
                subject=gettext("Due soon: %(title)s") % {"title": assignment.course.title},
                template="reminder",
                context={
                    "engineer": engineer,
                    "assignment": assignment,
                    "due_local": _local(assignment.due_at, engineer),
                    "hours_left": max(int((assignment.due_at - now).total_seconds() // 3600), 0),
                    "link": site_link("assignment", assignment.pk),
                },
                to=[engineer.user.email],
                languages=[engineer.language],
            )
        notification.recipients = [engineer.user.email]
        batch.append((message, [notification]))
    return _deliver(batch)


def send_escalations(*, now: datetime | None = None) -> int:
    """Tell each team's leads, in one mail per team addressed to all of them, which of
    their engineers' open assignments are past due — once per assignment and due
    date. Returns how many mails were sent."""
    now = now or timezone.now()
    claim = _claim(
        kind=Notification.Kind.ESCALATION,
        offset_hours=0,
        window_sql=f"""a.due_at <= %s AND EXISTS (
            SELECT 1 FROM {_TEAM_LEADS} tl JOIN {_USER} lu ON lu.id = tl.user_id
            WHERE tl.team_id = e.team_id AND lu.email <> ''
        )""",
        window_params=[now],
    )
    notifications = list(_claimed(claim))
    by_team: dict[int | None, list[Notification]] = defaultdict(list)
    for notification in notifications:
        by_team[notification.assignment.engineer.team_id].append(notification)
    # Left their team between claim and send: the next run tells the new team's leads.
    _release(by_team.pop(None, []))
    teams = Team.objects.filter(pk__in=by_team).prefetch_related("leads")
    batch = []
    for team in teams:
        leads = [lead.email for lead in team.leads.all() if lead.email]
        items = sorted(by_team[team.pk], key=lambda n: n.assignment.due_at)
        if not leads:
            # The team's last lead with an address left between claim and send.
            _release(items)
            continue
        for notification in items:
            notification.recipients = leads
        # One mail to all the team's leads (its claims are sent once, or retried
        # once, as a whole): written in each of their languages when they differ.
        languages = _lead_languages(team)
        subjects = []
        for language in languages:
            with translation.override(language):
                subjects.append(
                    ngettext(
                        "Overdue training in %(team)s: %(n)d assignment",
                        "Overdue training in %(team)s: %(n)d assignments",
                        len(items),
                    )
                    % {"team": team.name, "n": len(items)}
                )
        message = mail_message(
            subject=" / ".join(subjects),
            template="escalation",
            context={"team": team, "notifications": items, "link": site_link("lead_home")},
            to=leads,
            languages=languages,
        )
        batch.append((message, items))
    return _deliver(batch)
