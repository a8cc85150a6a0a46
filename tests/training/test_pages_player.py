import re

import pytest
from django.urls import reverse

from tests.training.quiz_course import build_quiz_course
from training.models import Assignment, LessonProgress

pytestmark = pytest.mark.django_db


@pytest.fixture
def qc(engineer):
    return build_quiz_course(engineer=engineer)


@pytest.fixture
def signed_in(client, engineer):
    client.force_login(engineer.user)
    return client


def lesson_url(qc, n: int) -> str:
    return reverse("lesson", args=[qc.assignment.pk, qc.lessons[n].position])


def test_the_course_overview_lists_lessons_and_the_quiz(signed_in, qc):
    html = signed_in.get(reverse("assignment", args=[qc.assignment.pk])).text
    for lesson in qc.lessons:
        assert lesson.title in html
    assert "Pass mark 100%" in html
    assert "Start the course" in html


def test_a_lesson_renders_its_markdown_with_previous_and_next(signed_in, qc):
    html = signed_in.get(lesson_url(qc, 0)).text
    assert '<h1 id="lesson-title">Editing sent messages</h1>' in html
    # The lesson's top heading ("##") sits one level below the page's h1 (axe heading-order).
    assert "<h2>What changed</h2>" in html
    assert "<strong>edited</strong>" in html and "<table>" in html
    assert 'rel="next"' in html and 'rel="prev"' not in html
    assert "Lesson 1 of 2" in html
    html = signed_in.get(lesson_url(qc, 1)).text
    assert 'rel="prev"' in html


def test_a_lesson_shows_its_title_once_and_the_progress_bar_before_the_body(signed_in, engineer):
    qc = build_quiz_course(
        engineer=engineer,
        lessons=[("Editing sent messages", "# Editing sent messages\n\nIntro.\n\n## How\n")],
    )
    html = signed_in.get(lesson_url(qc, 0)).text
    article = html.split('<article class="lesson"', 1)[1]
    assert article.count("Editing sent messages") == 1
    # The dropped "#" leaves "##" as the body's top heading, one below the page's h1.
    assert "<h2>How</h2>" in article
    progress = article.index('<progress id="progress-course"')
    assert progress < article.index('<div class="prose">') < article.index("Intro.")
    assert html.count('id="progress-course"') == 1


def test_a_lesson_with_code_and_a_checklist_is_highlighted_and_ticked(signed_in, engineer):
    qc = build_quiz_course(
        engineer=engineer,
        lessons=[("Checklist", "- [x] Update\n- [ ] Test\n\n```kotlin\nval a = 1\n```\n")],
    )
    html = signed_in.get(lesson_url(qc, 0)).text
    body = html.split('<div class="prose">', 1)[1].split('<div id="lesson-status"', 1)[0]
    boxes = [set(tag.split()) for tag in re.findall(r"<input ([^>]*)>", body)]
    assert boxes == [
        {'checked="checked"', 'type="checkbox"', 'disabled="disabled"'},
        {'type="checkbox"', 'disabled="disabled"'},
    ]
    assert '<div class="highlight"><pre><code class="language-kotlin">' in body
    assert '<span class="kd">val</span>' in body
    assert 'href="/static/training/pygments.css"' in html


def test_opening_a_lesson_starts_the_assignment(signed_in, qc):
    signed_in.get(lesson_url(qc, 0))
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.IN_PROGRESS


def test_a_lesson_with_script_and_event_handlers_renders_harmless(signed_in, engineer):
    qc = build_quiz_course(
        engineer=engineer,
        lessons=[
            (
                "Hostile",
                'Hello\n\n<script>document.title="pwned"</script>\n\n'
                '<img src="x.png" onerror="alert(1)">\n\n'
                '<a href="javascript:alert(2)" onclick="alert(3)">click</a>\n\n'
                "[also](javascript:alert(4))",
            )
        ],
    )
    html = signed_in.get(lesson_url(qc, 0)).text
    body = html.split('<div class="prose">', 1)[1].split('<div id="lesson-status"', 1)[0]
    assert "Hello" in body
    assert "<script" not in body and "pwned" not in body
    assert "onerror" not in body and "onclick" not in body
    assert 'href="javascript' not in body
    assert "<script" not in html.split("</head>", 1)[1]  # the page's only script is in <head>


def test_marking_a_lesson_read_without_javascript_comes_back_to_it(signed_in, engineer, qc):
    response = signed_in.post(reverse("lesson_read", args=[qc.assignment.pk, 1]))
    assert response.status_code == 302
    assert response["Location"] == lesson_url(qc, 0) + "#lesson-status"
    assert LessonProgress.objects.filter(engineer=engineer, lesson=qc.lessons[0]).exists()
    html = signed_in.get(lesson_url(qc, 0)).text
    assert "✓ Read" in html
    assert "33% complete (1 of 3 steps)" in html


def test_marking_a_lesson_read_with_htmx_returns_the_status_panel(signed_in, qc):
    response = signed_in.post(
        reverse("lesson_read", args=[qc.assignment.pk, 1]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "✓ Read" in response.text
    assert 'hx-swap-oob="true"' in response.text
    assert "autofocus" in response.text
    # The progress bar at the top of the lesson is swapped out of band.
    assert '<div class="lesson-progress" id="lesson-progress" hx-swap-oob="true">' in response.text
    assert "33% complete (1 of 3 steps)" in response.text


def test_marking_read_needs_a_post(signed_in, qc):
    assert signed_in.get(reverse("lesson_read", args=[qc.assignment.pk, 1])).status_code == 405


def test_resume_goes_to_the_first_unread_lesson_then_the_quiz(signed_in, qc):
    resume = reverse("assignment_resume", args=[qc.assignment.pk])
    assert signed_in.get(resume)["Location"] == lesson_url(qc, 0)
    signed_in.post(reverse("lesson_read", args=[qc.assignment.pk, 1]))
    assert signed_in.get(resume)["Location"] == lesson_url(qc, 1)
    signed_in.post(reverse("lesson_read", args=[qc.assignment.pk, 2]))
    assert signed_in.get(resume)["Location"] == reverse("quiz", args=[qc.assignment.pk])


def test_a_lesson_that_does_not_exist_is_404(signed_in, qc):
    assert signed_in.get(reverse("lesson", args=[qc.assignment.pk, 99])).status_code == 404
    assert signed_in.post(reverse("lesson_read", args=[qc.assignment.pk, 99])).status_code == 404


def test_another_engineers_assignment_is_404(client, outsider, qc):
    client.force_login(outsider.user)
    pk = qc.assignment.pk
    for url in (
        reverse("assignment", args=[pk]),
        reverse("assignment_resume", args=[pk]),
        reverse("lesson", args=[pk, 1]),
        reverse("quiz", args=[pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("lesson_read", args=[pk, 1])).status_code == 404
    assert client.post(reverse("quiz_start", args=[pk])).status_code == 404
    assert not LessonProgress.objects.exists()
