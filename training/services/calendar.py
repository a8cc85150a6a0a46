"""An engineer's personal iCalendar feed of due dates, behind a secret URL.

Calendar apps poll the feed without a session, so the URL's token is the only
credential: it is long and random, and the engineer can replace it at any time,
which stops the old URL at once.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from icalendar import Alarm, Calendar, Event

from training.models import Assignment, Engineer
from training.models.people import new_calendar_token

PRODID = "-//Preflight//Training due dates//EN"
# A deadline shown as a short block that ends at the due time, so it is visible
# in day views, with a reminder a day ahead.
EVENT_LENGTH = timedelta(minutes=30)
REMINDER_BEFORE = timedelta(days=1)


@transaction.atomic
def calendar_token_reset(*, engineer: Engineer) -> str:
    """Give the engineer a new calendar token; the old feed URL stops working.
    Returns the new token."""
    token = new_calendar_token()
    Engineer.objects.filter(pk=engineer.pk).update(calendar_token=token)
    engineer.calendar_token = token
    return token


def calendar_assignments(*, engineer: Engineer):
    """The assignments the feed shows: open ones (not complete or exempt)."""
    return (
        Assignment.objects.filter(engineer=engineer)
        .exclude(status__in=Assignment.DONE)
        .select_related("course", "release__sdk")
        .order_by("due_at", "id")
    )


def calendar_build(
    *,
    engineer: Engineer,
    assignments: Iterable[Assignment],
    url_for: Callable[[Assignment], str],
    now: datetime | None = None,
) -> bytes:
    """The ICS document of the given assignments' due dates.

    `url_for(assignment)` gives the absolute URL of the assignment's page, put in
    each event. Event UIDs are stable per assignment, so a calendar app updates an
    event when a due date moves instead of adding a second one.
    """
    now = now or timezone.now()
    # Calendar apps fetch the feed without a session: written in the profile's language.
    with translation.override(engineer.language):
        return _calendar(engineer=engineer, assignments=assignments, url_for=url_for, now=now)


def _calendar(*, engineer, assignments, url_for, now) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Preflight — {engineer.name}")
    cal.add("x-wr-timezone", engineer.timezone)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for assignment in assignments:
        event = Event()
        event.add("uid", f"assignment-{assignment.pk}@preflight")
        event.add("dtstamp", now)
        event.add("dtstart", assignment.due_at - EVENT_LENGTH)
        event.add("dtend", assignment.due_at)
        title = assignment.course.title
        event.add("summary", gettext("Due: %(title)s") % {"title": title})
        lines = [gettext("Training “%(title)s” is due.") % {"title": title}]
        if assignment.release is not None:
            release = assignment.release
            lines.append(
                gettext("Release: %(release)s, with customers %(at)s UTC.")
                % {
                    "release": f"{release.sdk.slug} {release.version}",
                    "at": f"{release.customer_available_at:%Y-%m-%d %H:%M}",
                }
            )
        url = url_for(assignment)
        lines.append(url)
        event.add("description", "\n".join(lines))
        event.add("url", url)
        event.add("status", "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", gettext("Due tomorrow: %(title)s") % {"title": title})
        alarm.add("trigger", -REMINDER_BEFORE)
        event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
