# ruff: noqa: RUF001 -- the Chinese texts use full-width punctuation, as Chinese does.
"""Languages and accessibility in a real browser.

A Chinese-speaking engineer reads the pages in Chinese and switches to English;
axe-core (tests/browser/vendor) finds no serious or critical violation on any page
an engineer or a lead uses; the engineer pages fit a 375 px phone; the quiz is
answered and submitted with the keyboard alone.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from courses.models import Course, Release
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    LessonFactory,
    ReleaseFactory,
    SkillRecordFactory,
    UserFactory,
)
from tests.training.quiz_course import QUESTIONS, build_quiz_course
from training.models import Assignment, Engineer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def new_page(browser):
    """new_page(viewport=…, locale=…) → a page in a context of its own. CSP is
    bypassed only so that axe can be injected; the pages' own scripts are ours."""
    contexts = []

    def make(*, viewport=None, locale="en-GB"):
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 900}, locale=locale, bypass_csp=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core violations of the page as it is now (every
    impact with AXE_ALL=1, to see the moderate and minor ones too)."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(", ".join(node["target"]) for node in v["nodes"][:5])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical") or os.environ.get("AXE_ALL")
    ]


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page scrolls sideways (0: none)."""
    return page.evaluate(
        "() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    )


def text_of(page) -> str:
    return page.locator("body").inner_text()


@pytest.fixture
def chinese_engineer(engineer) -> Engineer:
    Engineer.objects.filter(pk=engineer.pk).update(language="zh-hans")
    engineer.refresh_from_db()
    return engineer


def pass_quiz_with_the_mouse(page, qc) -> None:
    (_, _, _, _, single), (_, _, _, _, multiple) = QUESTIONS
    page.get_by_label(next(t for t, c in single if c)).check()
    for text, correct in multiple:
        if correct:
            page.get_by_label(text).check()
    page.locator("form.quiz-form button[type=submit]").click()


# --- language -------------------------------------------------------------------------


def test_a_chinese_engineer_reads_chinese_then_switches_to_english(
    new_page, live_server, chinese_engineer, screenshot
):
    qc = build_quiz_course(engineer=chinese_engineer)
    # The browser asks for English: the profile wins once signed in.
    page = new_page(locale="en-GB")
    sign_in(page, live_server, "alice")
    page.wait_for_url(live_server.url + "/")

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    body = text_of(page)
    for words in ("我的培训", "待完成", "截止时间", "面向客户", "仪表板", "我的技能"):
        assert words in body
    assert "My training" not in body
    # The course is English: the card says so, in English, marked as English.
    badge = page.locator(".badge-language")
    assert badge.inner_text() == "English course"
    assert badge.get_attribute("lang") == "en"
    due = timezone.localtime(qc.assignment.due_at, chinese_engineer.zone)
    assert f"{due.year}年{due.month}月{due.day}日" in body
    screenshot(page, "i18n-dashboard-zh")

    page.locator(".assignment-card").get_by_role("link", name=re.compile("^开始")).click()
    page.get_by_role("heading", level=1, name=qc.lessons[0].title).wait_for()
    body = text_of(page)
    for words in ("第 1 课，共 2 课", "标记为已读", "课时", "下一课"):
        assert words in body
    screenshot(page, "i18n-lesson-zh")

    page.goto(live_server.url + f"/assignments/{qc.assignment.pk}/quiz/")
    body = text_of(page)
    for words in ("测验：", "2 道题", "及格线：答对 100% 的题目", "最多作答 3 次"):
        assert words in body
    page.get_by_role("button", name="开始测验").click()
    page.get_by_role("button", name="提交答案").wait_for()
    body = text_of(page)
    assert "第 1 题，共 2 题" in body and "（选择所有正确项）" in body
    screenshot(page, "i18n-quiz-zh")

    # The switcher, in the header of every page: English from now on, saved.
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    page.get_by_role("button", name="Submit answers").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Question 1 of 2" in text_of(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", level=1, name="My training").wait_for()
    assert "我的培训" not in text_of(page)
    assert page.locator(".badge-language").count() == 0
    chinese_engineer.refresh_from_db()
    assert chinese_engineer.language == "en"
    screenshot(page, "i18n-dashboard-en")


def test_before_sign_in_the_page_follows_the_browser_language(new_page, live_server, db):
    page = new_page(locale="zh-CN")
    page.goto(live_server.url + "/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", level=1).inner_text() == "登录"
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    page.get_by_role("heading", level=1, name="Sign in").wait_for()


# --- accessibility ----------------------------------------------------------------------


@pytest.fixture
def lead_world(lead, team, sdk, engineer):
    """A published release of the team's SDK with engineers in every state, a
    course to assign, skill records for the matrix and the expert finder."""
    now = timezone.now()
    release = ReleaseFactory(
        sdk=sdk,
        version="3.0.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=now + timedelta(days=3),
    )
    course = CourseFactory(slug="rtm-android-3-0", release=release, title="RTM Android 3.0")
    LessonFactory(course=course, position=1)
    for username, region, status in [
        ("bao", "APAC", Assignment.Status.COMPLETE),
        ("dana", "EMEA", Assignment.Status.IN_PROGRESS),
        ("fran", "AMER", Assignment.Status.ASSIGNED),
    ]:
        member = EngineerFactory(
            user=UserFactory(username=username), team=team, region=region, timezone="UTC"
        )
        AssignmentFactory(
            engineer=member,
            course=course,
            status=status,
            due_at=release.due_at,
            completed_at=now if status == Assignment.Status.COMPLETE else None,
        )
        SkillRecordFactory(engineer=member, level=3)
    CourseFactory(slug="push-basics", title="Push basics", status=Course.Status.PUBLISHED)
    return release


ENGINEER_PAGES = ["dashboard", "course", "lesson", "quiz", "attempt", "result", "skills"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_axe_finds_no_serious_violation_on_the_engineer_pages(
    new_page, live_server, engineer, language, screenshot
):
    Engineer.objects.filter(pk=engineer.pk).update(language=language)
    qc = build_quiz_course(engineer=engineer)
    page = new_page()
    page.goto(live_server.url + "/accounts/login/")
    found = {"sign-in": axe_violations(page)}
    sign_in(page, live_server, "alice")
    base = live_server.url
    urls = {
        "dashboard": "/",
        "course": f"/assignments/{qc.assignment.pk}/",
        "lesson": f"/assignments/{qc.assignment.pk}/lessons/1/",
        "quiz": f"/assignments/{qc.assignment.pk}/quiz/",
    }
    for name, path in urls.items():
        page.goto(base + path)
        found[name] = axe_violations(page)
    page.goto(base + urls["quiz"])
    page.locator("form[action$='/quiz/start/'] button").click()
    page.locator("form.quiz-form").wait_for()
    found["attempt"] = axe_violations(page)
    # Submitted with nothing chosen: the form with its errors.
    page.locator("form.quiz-form button[type=submit]").click()
    page.locator("#form-errors").wait_for()
    found["attempt with errors"] = axe_violations(page)
    pass_quiz_with_the_mouse(page, qc)
    page.locator(".result").wait_for()
    found["result"] = axe_violations(page)
    page.goto(base + "/skills/")
    found["skills"] = axe_violations(page)
    page.goto(base + "/accounts/password/")
    found["password change"] = axe_violations(page)
    page.locator("form button[type=submit]").last.click()
    page.locator(".field-invalid").first.wait_for()
    found["password change with errors"] = axe_violations(page)
    assert {name: v for name, v in found.items() if v} == {}


def test_axe_finds_no_serious_violation_on_the_lead_pages(
    new_page, live_server, lead_world, screenshot
):
    release = lead_world
    page = new_page()
    sign_in(page, live_server, "lena")
    base = live_server.url
    found = {}
    for name, path in {
        "lead home": "/lead/",
        "lead release": f"/lead/releases/{release.sdk.slug}/{release.version}/",
        "assign": "/lead/assign/",
        "matrix": "/team/matrix/",
        "experts": "/team/experts/",
    }.items():
        response = page.goto(base + path)
        assert response.status in (200, 400), (name, response.status)
        found[name] = axe_violations(page)
    page.locator("#id_skill").select_option(index=1)
    page.locator("form.matrix-filters button[type=submit]").click()
    page.locator(".experts-table").wait_for()
    found["experts found"] = axe_violations(page)
    page.goto(base + "/lead/assign/")
    page.locator("form.assign-form button[type=submit]").click()
    page.locator(".field-invalid").first.wait_for()
    found["assign with errors"] = axe_violations(page)
    assert {name: v for name, v in found.items() if v} == {}


# --- a phone ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_engineer_pages_fit_a_375_px_phone(
    new_page, live_server, engineer, language, screenshot
):
    Engineer.objects.filter(pk=engineer.pk).update(language=language)
    qc = build_quiz_course(
        engineer=engineer, title="RTM Android 2.4 — what's new in message editing and reconnection"
    )
    CourseFactory(slug="zh", title="推送通知入门", language="zh-hans")
    page = new_page(viewport=PHONE)
    sign_in(page, live_server, "alice")
    base = live_server.url
    overflow = {}
    for name, path in {
        "dashboard": "/",
        "course": f"/assignments/{qc.assignment.pk}/",
        "lesson": f"/assignments/{qc.assignment.pk}/lessons/1/",
        "quiz": f"/assignments/{qc.assignment.pk}/quiz/",
    }.items():
        page.goto(base + path)
        overflow[name] = horizontal_overflow(page)
        screenshot(page, f"phone-{name}-{language}")
    page.locator("form[action$='/quiz/start/'] button").click()
    page.locator("form.quiz-form").wait_for()
    overflow["attempt"] = horizontal_overflow(page)
    screenshot(page, f"phone-attempt-{language}")
    pass_quiz_with_the_mouse(page, qc)
    page.locator(".result").wait_for()
    overflow["result"] = horizontal_overflow(page)
    screenshot(page, f"phone-result-{language}")
    assert overflow == dict.fromkeys(overflow, 0)


# --- a lesson with code and a checklist ---------------------------------------------------


@pytest.mark.parametrize(
    ("viewport", "name"), [(None, "lesson-code-1280"), (PHONE, "lesson-code-375")]
)
def test_a_lesson_with_code_and_a_checklist_reads_well(
    new_page, live_server, engineer, viewport, name, screenshot
):
    qc = build_quiz_course(engineer=engineer)
    page = new_page(viewport=viewport)
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/assignments/{qc.assignment.pk}/lessons/1/")
    lesson = page.locator("article.lesson")
    screenshot(page, name)
    # The title once; the progress bar between it and the body.
    assert lesson.get_by_text(qc.lessons[0].title, exact=True).count() == 1
    title, bar = lesson.locator("h1").bounding_box(), lesson.locator("progress").bounding_box()
    body = lesson.locator(".prose").bounding_box()
    assert title and bar and body
    assert title["y"] < bar["y"] < body["y"]
    # A checklist of disabled boxes, the first ticked.
    boxes = lesson.locator(".prose input[type=checkbox]")
    assert boxes.count() == 2
    assert [boxes.nth(i).is_checked() for i in range(2)] == [True, False]
    assert all(boxes.nth(i).is_disabled() for i in range(2))
    # Highlighted by the stylesheet: a keyword and a comment in other colours than the text.
    colour = "el => getComputedStyle(el).color"
    code = lesson.locator(".highlight code")
    keyword = code.locator("span.kd").first.evaluate(colour)
    comment = code.locator("span.c1").first.evaluate(colour)
    assert len({code.evaluate(colour), keyword, comment}) == 3
    assert horizontal_overflow(page) == 0
    assert axe_violations(page) == []


# --- the keyboard ------------------------------------------------------------------------


def _focused(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                tag: el.tagName.toLowerCase(),
                type: el.type || "",
                label: (el.labels && el.labels[0] ? el.labels[0].innerText : el.innerText).trim(),
                checked: !!el.checked,
                name: el.name || "",
                outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
            };
        }"""
    )


def tab_to(page, wanted, *, limit: int = 60) -> dict:
    """Press Tab until the focused element satisfies `wanted`; every stop on the way
    must show where the focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        assert focused["outline"], f"no visible focus on {focused}"
        if wanted(focused):
            return focused
    raise AssertionError("never reached by Tab")


def test_the_quiz_is_answered_and_submitted_with_the_keyboard_alone(
    new_page, live_server, engineer, screenshot
):
    qc = build_quiz_course(engineer=engineer)
    (_, _, _, _, single), (_, _, _, _, multiple) = QUESTIONS
    right_single = next(text for text, correct in single if correct)
    right_multiple = {text for text, correct in multiple if correct}
    page = new_page()
    sign_in(page, live_server, "alice")
    page.goto(live_server.url + f"/assignments/{qc.assignment.pk}/quiz/")

    tab_to(page, lambda f: f["tag"] == "button" and f["label"] == "Start the quiz")
    page.keyboard.press("Enter")
    page.locator("form.quiz-form").wait_for()

    # Questions come in the attempt's own order. A radio group is one Tab stop
    # where the arrows move and choose; each checkbox is a stop of its own, ticked
    # with Space. Tab on until the submit button, then Enter.
    while True:
        focused = tab_to(
            page,
            lambda f: f["type"] in ("radio", "checkbox") or f["label"] == "Submit answers",
        )
        if focused["label"] == "Submit answers":
            break
        if focused["type"] == "radio":
            for _ in range(len(single)):
                if focused["label"] == right_single:
                    break
                page.keyboard.press("ArrowDown")
                focused = _focused(page)
            if not focused["checked"]:  # the first radio: focused by Tab, chosen by Space
                page.keyboard.press("Space")
            assert _focused(page) | {"outline": True} == focused | {"checked": True}
        elif focused["label"] in right_multiple:
            page.keyboard.press("Space")
            assert _focused(page)["checked"]
    screenshot(page, "keyboard-quiz")
    page.keyboard.press("Enter")

    page.get_by_role("heading", name="Passed", exact=True).wait_for()
    assert "100%" in page.locator(".score").inner_text()
    tab_to(page, lambda f: f["tag"] == "a" and f["label"] == "Back to the dashboard")
    screenshot(page, "keyboard-result")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")


def test_the_language_switcher_works_with_the_keyboard(new_page, live_server, engineer):
    build_quiz_course(engineer=engineer)
    page = new_page()
    sign_in(page, live_server, "alice")
    tab_to(page, lambda f: f["tag"] == "select" and f["name"] == "language")
    page.keyboard.press("ArrowDown")  # English → 简体中文
    tab_to(page, lambda f: f["tag"] == "button" and f["label"] == "Switch")
    page.keyboard.press("Enter")
    page.get_by_role("heading", level=1, name="我的培训").wait_for()


def test_the_axe_check_does_report_a_serious_violation(new_page, live_server):
    """The harness itself: a page with an unlabelled button and an image without
    alternative text fails it."""
    page = new_page()
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        "<button></button></main></body></html>"
    )
    found = axe_violations(page)
    assert any(v.startswith("image-alt (critical)") for v in found)
    assert any(v.startswith("button-name (critical)") for v in found)
