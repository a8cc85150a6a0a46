from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from tests.factories import AssignmentFactory, CourseFactory
from tests.training.quiz_course import build_quiz_course
from training.models import Assignment, Engineer
from training.services.calendar import calendar_token_reset

pytestmark = pytest.mark.django_db


def feed(client: Client, engineer: Engineer):
    return client.get(reverse("calendar_feed", args=[engineer.calendar_token]))


def events(response) -> list:
    return Calendar.from_ical(response.content).walk("VEVENT")


def test_the_feed_lists_my_open_due_dates_without_a_session(engineer, outsider):
    due = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
    qc = build_quiz_course(engineer=engineer, due_at=due)
    AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(title="Done already"),
        status=Assignment.Status.COMPLETE,
        completed_at=datetime.now(UTC),
    )
    AssignmentFactory(engineer=outsider, course=CourseFactory(title="Not mine"))
    response = feed(Client(), engineer)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    [event] = events(response)
    assert str(event["summary"]) == f"Due: {qc.course.title}"
    assert event.decoded("dtend") == due
    assert event.decoded("dtstart") == due - timedelta(minutes=30)
    assert str(event["uid"]) == f"assignment-{qc.assignment.pk}@preflight"
    assert str(event["url"]).endswith(reverse("assignment", args=[qc.assignment.pk]))
    assert "rtm-android 2.4.0" in str(event["description"])
    assert event.walk("VALARM")


def test_an_unknown_token_is_404(db):
    assert Client().get(reverse("calendar_feed", args=["nope"])).status_code == 404


def test_resetting_the_token_stops_the_old_url(engineer):
    old = engineer.calendar_token
    new = calendar_token_reset(engineer=engineer)
    assert new != old
    engineer.refresh_from_db()
    assert engineer.calendar_token == new
    assert Client().get(reverse("calendar_feed", args=[old])).status_code == 404
    assert feed(Client(), engineer).status_code == 200


def test_an_inactive_engineers_feed_is_gone(engineer):
    Engineer.objects.filter(pk=engineer.pk).update(active=False)
    assert feed(Client(), engineer).status_code == 404


def test_the_reset_button_resets_my_token_only(client, engineer, outsider):
    client.force_login(engineer.user)
    old, theirs = engineer.calendar_token, outsider.calendar_token
    response = client.post(reverse("calendar_reset"))
    assert response.status_code == 302
    engineer.refresh_from_db()
    outsider.refresh_from_db()
    assert engineer.calendar_token != old
    assert outsider.calendar_token == theirs


def test_resetting_needs_a_post_and_a_session(client, engineer):
    assert client.post(reverse("calendar_reset")).status_code == 302  # to sign-in
    client.force_login(engineer.user)
    assert client.get(reverse("calendar_reset")).status_code == 405


def test_the_dashboard_links_to_my_feed(client, engineer):
    client.force_login(engineer.user)
    response = client.get(reverse("home"))
    assert reverse("calendar_feed", args=[engineer.calendar_token]) in response.text
