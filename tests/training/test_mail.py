"""Every mail the product sends: a plain-text part and an HTML part, in the reader's
language, with absolute links from PREFLIGHT_SITE_URL, the HTML escaped."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from core.actors import SYSTEM, Actor
from courses.models import Release
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    FeatureFactory,
    ReleaseFactory,
    UserFactory,
)
from tests.training.quiz_course import build_quiz_course
from tests.training.test_attempts import answers_for, first_prompt
from training.models import AuditEvent, PersonPreferences
from training.services.attempts import attempt_start, attempt_submit
from training.services.extensions import assignment_grant_attempts
from training.services.notifications import send_escalations, send_reminders
from training.services.nudges import assignment_nudge
from training.services.releases import release_publish

pytestmark = pytest.mark.django_db

SITE = "https://preflight.example.com"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & co'


@pytest.fixture(autouse=True)
def _site(settings):
    settings.PREFLIGHT_SITE_URL = SITE + "/"


def parts(message) -> tuple[str, str]:
    """The text and the HTML of a multipart message (failing when it is not one)."""
    assert isinstance(message, EmailMultiAlternatives)
    assert [alternative.mimetype for alternative in message.alternatives] == ["text/html"]
    html = message.alternatives[0].content
    assert html.lstrip().startswith("<!doctype html>")
    return message.body, html


def assert_links_absolute(text: str, html: str) -> list[str]:
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs, "the HTML part has no link"
    assert all(href.startswith(SITE + "/") for href in hrefs), hrefs
    assert not any("//" in href[len(SITE) :] for href in hrefs), hrefs
    assert SITE + "/" in text
    return hrefs


def prefer(user, language: str) -> None:
    PersonPreferences.objects.create(user=user, timezone="Asia/Shanghai", language=language)


@time_machine.travel(NOW, tick=False)
def test_a_reminder_is_text_and_html_in_the_engineers_language_with_the_course_link(
    engineer, mailoutbox
):
    engineer.language = "zh-hans"
    engineer.save(update_fields=["language"])
    assignment = AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(title=HOSTILE),
        assigned_at=NOW - timedelta(days=5),
        due_at=NOW + timedelta(hours=60),
    )
    assert send_reminders() == 1
    (message,) = mailoutbox
    text, html = parts(message)
    assert message.extra_headers["Content-Language"] == "zh-hans"
    assert "你好" in text and "你好" in html
    assert '<div lang="zh-hans"' in html
    hrefs = assert_links_absolute(text, html)
    assert f"{SITE}/assignments/{assignment.pk}/" in hrefs
    # The title goes into the text as written, into the HTML escaped.
    assert HOSTILE in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html


@time_machine.travel(NOW, tick=False)
def test_an_escalation_holds_one_section_per_leads_language_in_both_parts(
    engineer, team, lead, mailoutbox
):
    lars = UserFactory(username="lars")
    prefer(lars, "zh-hans")  # a lead who is not an engineer: their preferences say it
    team.leads.add(lars)
    AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(title="Push in 3.1"),
        assigned_at=NOW - timedelta(days=5),
        due_at=NOW - timedelta(hours=2),
    )
    assert send_escalations() == 1
    (message,) = mailoutbox
    text, html = parts(message)
    assert message.extra_headers["Content-Language"] == "en, zh-hans"
    assert "Hello," in text and "你好" in text
    assert '<div lang="en"' in html and '<div lang="zh-hans"' in html
    hrefs = assert_links_absolute(text, html)
    assert f"{SITE}/lead/" in hrefs
    assert f"{SITE}/lead/engineers/alice/" in hrefs


def test_a_nudge_is_multipart_with_the_leads_message_escaped(
    lead, engineer, mailoutbox, django_capture_on_commit_callbacks
):
    qc = build_quiz_course(engineer=engineer)
    with django_capture_on_commit_callbacks(execute=True):
        assignment_nudge(assignment=qc.assignment, actor=Actor(user=lead), message=HOSTILE)
    (message,) = mailoutbox
    text, html = parts(message)
    assert message.extra_headers["Content-Language"] == "en"
    assert HOSTILE in text and "<script>" not in html
    assert "&lt;script&gt;" in html
    assert f"{SITE}/assignments/{qc.assignment.pk}/" in assert_links_absolute(text, html)


def test_a_grant_is_multipart_in_chinese(
    lead, engineer, mailoutbox, django_capture_on_commit_callbacks
):
    engineer.language = "zh-hans"
    engineer.save(update_fields=["language"])
    qc = build_quiz_course(engineer=engineer, title="RTM 2.4")
    with django_capture_on_commit_callbacks(execute=True):
        assignment_grant_attempts(
            assignment=qc.assignment, extra=2, reason="网络故障", actor=Actor(user=lead)
        )
    (message,) = mailoutbox
    text, html = parts(message)
    assert message.extra_headers["Content-Language"] == "zh-hans"
    assert "网络故障" in text and "网络故障" in html
    assert "截止" in text and "截止" in html  # "Due:" in Chinese
    assert f"{SITE}/assignments/{qc.assignment.pk}/" in assert_links_absolute(text, html)


def test_the_last_failed_attempt_reaches_each_lead_in_their_own_language(
    engineer, lead, mailoutbox, django_capture_on_commit_callbacks
):
    lars = UserFactory(username="lars")
    prefer(lars, "zh-hans")
    engineer.team.leads.add(lars)
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
        attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))
    by_language = {m.extra_headers["Content-Language"]: m for m in mailoutbox}
    assert set(by_language) == {"en", "zh-hans"}
    assert by_language["zh-hans"].to == ["lars@example.com"]
    assert by_language["en"].to == ["lena@example.com"]
    text, html = parts(by_language["zh-hans"])
    assert "未通过" in by_language["zh-hans"].subject and "测验" in text
    assert f"{SITE}/lead/engineers/alice/" in assert_links_absolute(text, html)
    text, html = parts(by_language["en"])
    assert "without passing" in text and "without passing" in html


def test_the_authors_mail_is_multipart_per_authors_language(
    sdk, team, mailoutbox, django_capture_on_commit_callbacks
):
    ada = UserFactory(username="ada", is_staff=True)
    bo = UserFactory(username="bo", is_staff=True)
    prefer(bo, "zh-hans")
    release = ReleaseFactory(
        sdk=sdk, version="2.7.0", customer_available_at=timezone.now() + timedelta(days=10)
    )
    FeatureFactory(release=release, key="message-edit", title="Edit sent messages")
    with django_capture_on_commit_callbacks(execute=True):
        release_publish(release=release, actor=SYSTEM)
    assert Release.objects.get(pk=release.pk).status == Release.Status.PUBLISHED
    by_language = {m.extra_headers["Content-Language"]: m for m in mailoutbox}
    assert set(by_language) == {"en", "zh-hans"}
    assert by_language["en"].to == [ada.email] and by_language["zh-hans"].to == [bo.email]
    assert "正在等待课程" in by_language["zh-hans"].subject
    for message in by_language.values():
        text, html = parts(message)
        assert "rtm-android-2-7-0" in text and "rtm-android-2-7-0" in html
        assert f"{SITE}/lead/releases/rtm-android/2.7.0/" in assert_links_absolute(text, html)
    # Once per release, whatever the languages.
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.AUTHORS_TOLD).count() == 1
