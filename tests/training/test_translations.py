# ruff: noqa: RUF001 -- the Chinese texts use full-width punctuation, as Chinese does.
"""Translations: every string marked and translated (checked without GNU gettext),
the engineer's language on every page and in every mail, the switcher, the API."""

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polib
import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import AssignmentFactory, CourseFactory, LessonFactory, UserFactory
from tests.i18n_checks import (
    LOCALE,
    ROOT,
    python_messages,
    template_files,
    template_messages,
    untranslated_text,
)
from training.i18n import SESSION_KEY
from training.models import Engineer
from training.services.notifications import send_escalations, send_reminders

ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
MIDDLEWARE = "training.i18n.EngineerLanguageMiddleware"
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]|\{\w+\}")


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A request or an override may leave a language active in this thread; the
    next test starts in the default one."""
    yield
    translation.deactivate()


@pytest.fixture
def language_middleware(settings):
    """The engineer-language middleware, where training.settings puts it (after
    AuthenticationMiddleware), whether or not settings already list it."""
    if MIDDLEWARE not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        at = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
        middleware.insert(at + 1, MIDDLEWARE)
        settings.MIDDLEWARE = middleware


def _catalogue() -> polib.POFile:
    return polib.pofile(str(ZH_PO))


# --- the catalogue is complete ---------------------------------------------------


def test_every_zh_hans_message_is_translated_and_none_is_fuzzy():
    catalogue = _catalogue()
    assert len(catalogue) > 300
    assert not catalogue.metadata_is_fuzzy  # a fuzzy header would drop Plural-Forms
    assert catalogue.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    empty_plurals = [
        entry.msgid
        for entry in catalogue
        if entry.msgid_plural and not all(entry.msgstr_plural.values())
    ]
    assert (untranslated, fuzzy, empty_plurals) == ([], [], [])


def test_every_translation_keeps_the_placeholders_of_its_message():
    wrong = []
    for entry in _catalogue().translated_entries():
        texts = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        wanted = sorted(_PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        wrong += [entry.msgid for text in texts if sorted(_PLACEHOLDER.findall(text)) != wanted]
    assert wrong == []


def test_every_marked_string_of_the_code_and_templates_is_in_the_catalogue():
    """What `makemessages` would extract, found with ast and Django's template
    parser, so the check needs no GNU gettext: a new string marked for
    translation without a zh-hans entry fails here."""
    sources = [
        path
        for app in ("training", "courses")
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]
    wanted = python_messages(sources) | template_messages(template_files())
    have = {(entry.msgctxt, entry.msgid) for entry in _catalogue().translated_entries()}
    assert sorted(wanted - have, key=str) == []


def test_the_catalogue_check_notices_a_message_with_no_translation(tmp_path):
    template = tmp_path / "new.html"
    template.write_text('{% load i18n %}<p>{% translate "A sentence nobody translated" %}</p>')
    module = tmp_path / "new.py"
    module.write_text('from django.utils.translation import gettext\ngettext("Another one")\n')
    have = {(entry.msgctxt, entry.msgid) for entry in _catalogue().translated_entries()}
    wanted = template_messages([template]) | python_messages([module])
    assert wanted - have == {(None, "A sentence nobody translated"), (None, "Another one")}


# --- nothing visible is left unmarked ----------------------------------------------


def test_no_template_shows_text_outside_the_translation_tags():
    unmarked = {}
    for path in template_files():
        found = untranslated_text(path.read_text(), html=path.suffix == ".html")
        if found:
            unmarked[str(path.relative_to(ROOT))] = found
    assert unmarked == {}


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('<p>Hello {{ name }}</p>{% translate "Fine" %}', ["Hello"]),
        ('<button aria-label="Close">×</button>', ["Close"]),
        ("{% if x %}<span>Due soon</span>{% endif %}", ["Due soon"]),
        ("<p>{% blocktranslate %}Covered {{ n }}{% endblocktranslate %} · 3%</p>", []),
        ("<a href=\"{% url 'home' %}\">Preflight</a> <script>var a = 'b';</script>", []),
    ],
)
def test_the_unmarked_text_detector_finds_plain_text(source, found):
    assert untranslated_text(source) == found


def test_the_unmarked_text_detector_fails_on_a_new_template_with_plain_text(tmp_path):
    template = tmp_path / "card.html"
    template.write_text(
        "{% load i18n %}<section aria-label=\"{% translate 'Fine' %}\">\n"
        "  <h2>{% translate 'Due' %}</h2>\n  <p>Start the course</p>\n</section>\n"
    )
    assert untranslated_text(template.read_text()) == ["Start the course"]
    mail_text = tmp_path / "mail.txt"
    mail_text.write_text("{% load i18n %}{% translate 'Hello,' %}\n\nSee you soon.\n— Preflight\n")
    assert untranslated_text(mail_text.read_text(), html=False) == ["See you soon."]


# --- the language of a request ------------------------------------------------------


@pytest.fixture
def zh_engineer(engineer):
    Engineer.objects.filter(pk=engineer.pk).update(language="zh-hans")
    engineer.refresh_from_db()
    return engineer


def test_before_sign_in_the_browser_language_decides(client):
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").text
    assert '<html lang="zh-hans">' in html and "登录" in html
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").text
    assert '<html lang="en">' in html and "Sign in" in html


def test_signing_in_keeps_the_engineers_language_in_the_session(zh_engineer):
    client = Client()
    client.force_login(zh_engineer.user)
    assert client.session[SESSION_KEY] == "zh-hans"


def test_an_engineer_sees_their_pages_in_their_language_whatever_the_browser_says(
    zh_engineer, language_middleware
):
    course = CourseFactory(title="RTM Android 2.4", language="zh-hans")
    LessonFactory(course=course, position=1)
    due = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
    AssignmentFactory(
        engineer=zh_engineer, course=course, assigned_at=due - timedelta(days=9), due_at=due
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel(due - timedelta(days=3), tick=False):
        client.force_login(zh_engineer.user)
        html = client.get(reverse("home")).text
        password_page = client.get(reverse("password_change")).text
    assert '<html lang="zh-hans">' in html
    assert "我的培训" in html and "My training" not in html
    # Dates in the engineer's zone (Asia/Shanghai), written the Chinese way.
    assert "2026年12月15日 星期二 16:00 CST" in html
    assert "3 天后截止" in html
    # A page without the engineer decorator follows the profile too (the middleware).
    assert "修改密码" in password_page


def test_a_lead_with_a_profile_reads_the_lead_pages_in_their_language(
    lead, team, language_middleware
):
    from tests.factories import EngineerFactory

    EngineerFactory(user=lead, team=team, region="EMEA", language="zh-hans")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(lead)
    response = client.get(reverse("lead_home"))
    assert response["Content-Language"] == "zh-hans"
    assert "版本就绪情况" in response.text


def test_the_api_answers_in_the_language_the_client_asks_for(
    zh_engineer, token_client, language_middleware
):
    people = token_client("people")
    url = "/api/v1/engineers/"
    body = {"username": "bob", "region": "APAC", "timezone": "Mars/Olympus", "team": "nope"}
    english = people.post(url, body, format="json")
    assert english.status_code == 400
    assert english.json() == {
        "timezone": ["'Mars/Olympus' is not an IANA time zone (e.g. Asia/Shanghai)."],
        "team": ["Unknown team 'nope'."],
    }
    chinese = people.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert chinese.status_code == 400
    assert chinese.json() == {
        "timezone": ["“Mars/Olympus”不是 IANA 时区（例如 Asia/Shanghai）。"],
        "team": ["未知团队“nope”。"],
    }
    # A signed-in engineer's profile does not override what an API client asks for.
    client = Client()
    client.force_login(zh_engineer.user)
    answer = client.get("/api/v1/releases/rtm-android/9.9.9/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.json() == {"detail": "No release 9.9.9 of SDK rtm-android."}


def test_an_api_conflict_answers_in_chinese_too(pipeline, sdk):
    from tests.factories import ReleaseFactory

    ReleaseFactory(sdk=sdk, version="2.4.0", status="available")
    url = "/api/v1/releases/rtm-android/2.4.0/publish/"
    assert pipeline.post(url).json()["detail"] == (
        "Release rtm-android 2.4.0 is available; only a draft can be published."
    )
    detail = pipeline.post(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["detail"]
    assert detail == "版本 rtm-android 2.4.0 状态为“已面向客户”，只有草稿才能发布。"


# --- the switcher --------------------------------------------------------------------


def test_the_switcher_saves_an_engineers_language_and_returns_to_the_page(
    zh_engineer, language_middleware
):
    client = Client()
    client.force_login(zh_engineer.user)
    assert "我的技能" in client.get(reverse("skills")).text
    response = client.post(reverse("language_set"), {"language": "en", "next": "/skills/"})
    assert response.status_code == 302 and response["Location"] == "/skills/"
    zh_engineer.refresh_from_db()
    assert zh_engineer.language == "en"
    assert response.cookies["django_language"].value == "en"
    html = client.get(reverse("skills")).text
    assert '<html lang="en">' in html and "My skills" in html


def test_the_switcher_sets_the_cookie_before_sign_in(client):
    response = client.post(
        reverse("language_set"), {"language": "zh-hans", "next": "/accounts/login/"}
    )
    assert response["Location"] == "/accounts/login/"
    assert "登录" in client.get(reverse("login")).text


def test_the_switcher_ignores_a_foreign_next_and_an_unknown_language(client, zh_engineer):
    client.force_login(zh_engineer.user)
    response = client.post(
        reverse("language_set"), {"language": "fr", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"
    zh_engineer.refresh_from_db()
    assert zh_engineer.language == "zh-hans"
    assert client.get(reverse("language_set")).status_code == 405


def test_every_page_has_the_switcher(client, zh_engineer):
    assert 'action="/language/"' in client.get(reverse("login")).text
    client.force_login(zh_engineer.user)
    html = client.get(reverse("home")).text
    assert 'action="/language/"' in html
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in html


def test_the_dashboard_marks_a_course_not_in_my_language(zh_engineer):
    english = CourseFactory(title="Push basics", language="en")
    chinese = CourseFactory(title="推送基础", language="zh-hans")
    for course in (english, chinese):
        LessonFactory(course=course, position=1)
        AssignmentFactory(engineer=zh_engineer, course=course)
    client = Client()
    client.force_login(zh_engineer.user)
    html = client.get(reverse("home")).text
    assert html.count('class="badge badge-language"') == 1
    assert '<span class="badge badge-language" lang="en">English course</span>' in html


# --- mail in the recipient's language -----------------------------------------------

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_a_reminder_is_written_in_the_engineers_language(zh_engineer):
    zh_engineer.user.email = "alice@example.com"
    zh_engineer.user.save()
    course = CourseFactory(title="RTM Android 2.4")
    AssignmentFactory(
        engineer=zh_engineer, course=course, assigned_at=NOW, due_at=NOW + timedelta(hours=60)
    )
    assert send_reminders() == 1
    message = mail.outbox[0]
    assert message.subject == "即将截止：RTM Android 2.4"
    assert "Alice Chen，你好：" in message.body
    assert "2026年12月4日 星期五 05:00 CST" in message.body  # 21:00 UTC, in Shanghai
    assert "Your training" not in message.body
    # The task's thread is left in the language it had.
    assert translation.get_language() == "en"


@time_machine.travel(NOW, tick=False)
def test_an_escalation_to_leads_of_two_languages_is_written_in_both(engineer, team, lead):
    from tests.factories import EngineerFactory

    lead.email = "lena@example.com"
    lead.save()
    chinese_lead = UserFactory(username="li", email="li@example.com")
    EngineerFactory(user=chinese_lead, team=team, region="APAC", language="zh-hans")
    team.leads.add(chinese_lead)
    AssignmentFactory(engineer=engineer, assigned_at=NOW - timedelta(days=5), due_at=NOW)
    assert send_escalations() == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["lena@example.com", "li@example.com"]
    assert "Overdue training in APAC RTM: 1 assignment" in message.subject
    assert "APAC RTM 有逾期培训：1 项" in message.subject
    assert "are past their due date" in message.body and "已过截止时间" in message.body


def test_the_last_failed_attempt_mail_is_written_in_each_leads_language(
    engineer, team, lead, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.factories import EngineerFactory
    from tests.training.quiz_course import build_quiz_course
    from training.services.attempts import attempt_start, attempt_submit

    lead.email = "lena@example.com"
    lead.save()
    chinese_lead = UserFactory(username="li", email="li@example.com")
    EngineerFactory(user=chinese_lead, team=team, region="APAC", language="zh-hans")
    team.leads.add(chinese_lead)
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
        answers = {str(q["id"]): [] for q in attempt.snapshot["questions"]}
        for question in attempt.snapshot["questions"]:
            wrong = next(c for c in question["choices"] if not c["correct"])
            answers[str(question["id"])] = [wrong["key"]]
        attempt_submit(attempt=attempt, answers=answers)
    by_recipient = {tuple(message.to): message for message in mailoutbox}
    assert set(by_recipient) == {("lena@example.com",), ("li@example.com",)}
    assert "failed the quiz" in by_recipient[("lena@example.com",)].subject
    chinese = by_recipient[("li@example.com",)]
    assert chinese.subject == f"[Preflight] Alice Chen 未通过“{qc.course.title}”的测验"
    assert "最后一次得分：0%（及格线" in chinese.body


def test_the_compile_command_builds_the_catalogue_with_polib(tmp_path, settings):
    from django.core.management import call_command

    messages = tmp_path / "zh_Hans" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "django.po").write_text(Path(ZH_PO).read_text())
    settings.LOCALE_PATHS = [tmp_path]
    call_command("compile_translations", stdout=io.StringIO())
    compiled = polib.mofile(str(messages / "django.mo"))
    assert compiled.find("Dashboard").msgstr == "仪表板"


def test_readiness_reasons_are_data_put_into_words_of_the_active_language():
    from training.readiness.policy import reason_text

    reasons = [
        {"code": "below_completion", "params": {"completion": 0.4567, "min": 0.9}},
        {"code": "region_without_complete", "params": {"region": "AMER"}},
        {"code": "region_below_minimum", "params": {"region": "EMEA", "complete": 1, "min": 2}},
        {"code": "something_new", "params": {}},
    ]
    with translation.override("zh-hans"):
        assert [reason_text(reason) for reason in reasons] == [
            "完成率 45% 低于 90%",
            "AMER 没有已完成培训的工程师",
            "EMEA 已完成培训的工程师有 1 位，少于 2 位",
            "something_new",
        ]
    assert [reason_text(reason) for reason in reasons] == [
        "completion 45% is below 90%",
        "AMER has no complete engineer",
        "EMEA has 1 complete engineers, fewer than 2",
        "something_new",
    ]
