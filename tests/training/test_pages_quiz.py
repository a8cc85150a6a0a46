import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.models import Quiz
from tests.factories import ChoiceFactory, QuestionFactory, SkillFactory, SkillRecordFactory
from tests.training.quiz_course import QUESTIONS, build_quiz_course
from training.models import Assignment, Attempt, LessonProgress, SkillRecord
from training.readiness import release_readiness, release_readiness_fresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def qc(engineer):
    return build_quiz_course(engineer=engineer)


@pytest.fixture
def signed_in(client, engineer):
    client.force_login(engineer.user)
    return client


def start(client, qc) -> Attempt:
    response = client.post(reverse("quiz_start", args=[qc.assignment.pk]))
    assert response.status_code == 302
    return Attempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def form_data(attempt: Attempt, *, right: bool = True) -> dict[str, list[str]]:
    data = {}
    for question in attempt.snapshot["questions"]:
        keys = [c["key"] for c in question["choices"] if c["correct"] == right]
        data[f"q{question['id']}"] = keys[:1] if not right else keys
    return data


def test_the_quiz_page_shows_the_rules_and_a_start_button(signed_in, qc):
    html = signed_in.get(reverse("quiz", args=[qc.assignment.pk])).text
    assert "Pass mark: 100%" in html
    assert "At most 3 attempts" in html
    assert "Start the quiz" in html


def test_the_question_page_reveals_no_explanation_and_no_key(signed_in, qc):
    attempt = start(signed_in, qc)
    html = signed_in.get(reverse("attempt", args=[attempt.pk])).text
    for _prompt, _kind, _skill, explanation, choices in QUESTIONS:
        assert explanation not in html
        assert explanation.replace("**", "") not in html
        for text, _correct in choices:
            assert text in html
    assert "correct" not in html.lower()
    assert "explanation" not in html.lower()
    # Every choice input looks alike but for its name and the key of its shown place.
    inputs = re.findall(r"<input type=\"(?:radio|checkbox)\"[^>]*>", html)
    assert len(inputs) == 6
    shapes = {re.sub(r'(name|value)="[^"]*"', "", tag) for tag in inputs}
    assert len(shapes) == 2  # radio and checkbox, nothing else differs
    assert {re.search(r'value="([^"]*)"', tag).group(1) for tag in inputs} == {"0", "1", "2"}


def test_choices_render_inline_markdown_on_the_form_and_the_result(signed_in, qc):
    choice = qc.questions[0].choices.get(correct=True)
    choice.text = "By `server_timestamp`, *not* <b onclick=alert(1)>send time</b>"
    choice.save()
    rendered = (
        "By <code>server_timestamp</code>, <em>not</em> "
        "&lt;b onclick=alert(1)&gt;send time&lt;/b&gt;"
    )
    attempt = start(signed_in, qc)
    html = signed_in.get(reverse("attempt", args=[attempt.pk])).text
    assert f"<span>{rendered}</span>" in html
    signed_in.post(reverse("attempt", args=[attempt.pk]), form_data(attempt))
    html = signed_in.get(reverse("attempt", args=[attempt.pk])).text
    assert f'<span class="choice-text">{rendered}</span>' in html


def test_a_reload_shows_the_same_order(signed_in, qc):
    attempt = start(signed_in, qc)
    url = reverse("attempt", args=[attempt.pk])
    first, second = signed_in.get(url).text, signed_in.get(url).text
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"|"X-CSRFToken": "[^"]*"')
    assert strip.sub("", first) == strip.sub("", second)
    assert start(signed_in, qc) == attempt  # starting again resumes it


def test_unanswered_questions_come_back_with_errors_and_the_answers_kept(signed_in, qc):
    attempt = start(signed_in, qc)
    single = next(q for q in attempt.snapshot["questions"] if q["kind"] == "single")
    response = signed_in.post(reverse("attempt", args=[attempt.pk]), {f"q{single['id']}": ["1"]})
    assert response.status_code == 400
    assert "Choose an answer." in response.text
    assert 'aria-describedby="q' in response.text
    assert re.search(rf'name="q{single["id"]}" value="1" checked', response.text)
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


def test_a_forged_choice_is_a_form_error_not_a_500(signed_in, qc):
    attempt = start(signed_in, qc)
    data = {f"q{q['id']}": ["not-a-choice"] for q in attempt.snapshot["questions"]}
    response = signed_in.post(reverse("attempt", args=[attempt.pk]), data)
    assert response.status_code == 400
    assert "Choose among the answers shown." in response.text


def test_a_failed_attempt_with_attempts_left_shows_what_was_wrong_but_never_the_key(signed_in, qc):
    attempt = start(signed_in, qc)
    response = signed_in.post(
        reverse("attempt", args=[attempt.pk]), form_data(attempt, right=False)
    )
    assert response.status_code == 302
    html = signed_in.get(response["Location"]).text
    assert "Not passed" in html and "0%" in html
    assert "Wrong" in html
    for _prompt, _kind, _skill, explanation, _choices in QUESTIONS:
        assert explanation.split("**")[0] not in html
    assert "correct answer" not in html and "choice-correct" not in html
    assert "Try again" in html
    assert "2 attempts left" in html


def test_the_key_and_explanations_appear_once_the_engineer_passes(signed_in, qc):
    failed = start(signed_in, qc)
    signed_in.post(reverse("attempt", args=[failed.pk]), form_data(failed, right=False))
    attempt = start(signed_in, qc)
    response = signed_in.post(reverse("attempt", args=[attempt.pk]), form_data(attempt))
    html = signed_in.get(response["Location"]).text
    for _prompt, _kind, _skill, explanation, _choices in QUESTIONS:
        assert explanation.split("**")[0] in html
    assert "correct answer" in html
    # The failed attempt's review now shows the key too: nothing is left to copy.
    assert "correct answer" in signed_in.get(reverse("attempt", args=[failed.pk])).text


def test_a_quiz_with_immediate_review_shows_the_key_on_a_failed_attempt(signed_in, qc):
    Quiz.objects.filter(pk=qc.quiz.pk).update(review=Quiz.Review.IMMEDIATE)
    attempt = start(signed_in, qc)
    response = signed_in.post(
        reverse("attempt", args=[attempt.pk]), form_data(attempt, right=False)
    )
    html = signed_in.get(response["Location"]).text
    assert "correct answer" in html
    assert "Read the explanations below" in html


def test_a_passed_attempt_completes_the_course_once_lessons_are_read(signed_in, qc):
    for lesson in qc.lessons:
        signed_in.post(reverse("lesson_read", args=[qc.assignment.pk, lesson.position]))
    attempt = start(signed_in, qc)
    response = signed_in.post(reverse("attempt", args=[attempt.pk]), form_data(attempt))
    html = signed_in.get(response["Location"]).text
    assert "Passed" in html and "100%" in html
    assert "this course is complete" in html
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == "complete"


def test_submitting_twice_grades_once(signed_in, qc, engineer):
    attempt = start(signed_in, qc)
    url = reverse("attempt", args=[attempt.pk])
    signed_in.post(url, form_data(attempt))
    response = signed_in.post(url, form_data(attempt, right=False), follow=True)
    assert "already submitted" in response.text
    attempt.refresh_from_db()
    assert (attempt.score, attempt.passed) == (100, True)
    assert SkillRecord.objects.filter(engineer=engineer).count() == 2


def test_no_attempt_is_started_past_the_limit(signed_in, engineer):
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    attempt = start(signed_in, qc)
    signed_in.post(reverse("attempt", args=[attempt.pk]), form_data(attempt, right=False))
    response = signed_in.post(reverse("quiz_start", args=[qc.assignment.pk]), follow=True)
    assert "every attempt" in response.text
    assert Attempt.objects.count() == 1
    html = signed_in.get(reverse("attempt", args=[attempt.pk])).text
    assert "That was your last attempt" in html


def test_a_course_without_a_quiz_has_no_quiz_page(signed_in, engineer):
    qc = build_quiz_course(engineer=engineer, with_quiz=False)
    assert signed_in.get(reverse("quiz", args=[qc.assignment.pk])).status_code == 404


def test_another_engineers_attempt_is_404(client, signed_in, qc, outsider):
    attempt = start(signed_in, qc)
    client.force_login(outsider.user)
    url = reverse("attempt", args=[attempt.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, form_data(attempt)).status_code == 404
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


def test_my_skills_lists_levels_with_evidence(signed_in, qc):
    attempt = start(signed_in, qc)
    signed_in.post(reverse("attempt", args=[attempt.pk]), form_data(attempt))
    html = signed_in.get(reverse("skills")).text
    assert "Message ordering" in html and "Reconnection" in html
    assert html.count("Proficient") == 2
    assert reverse("attempt", args=[attempt.pk]) in html


def test_my_skills_shows_only_mine(client, signed_in, qc, outsider):
    attempt = start(signed_in, qc)
    signed_in.post(reverse("attempt", args=[attempt.pk]), form_data(attempt))
    client.force_login(outsider.user)
    html = client.get(reverse("skills")).text
    assert "No skills recorded yet" in html


@pytest.mark.parametrize("count", [2, 20])
def test_my_skills_query_count_does_not_grow_with_records(
    signed_in, engineer, qc, django_assert_max_num_queries, count
):
    attempt = Attempt.objects.create(
        engineer=engineer,
        quiz=qc.quiz,
        number=1,
        pass_mark=50,
        snapshot={"questions": []},
        submitted_at=timezone.now(),
        score=90,
        passed=True,
    )
    for _ in range(count):
        SkillRecordFactory(engineer=engineer, evidence=attempt)
    with django_assert_max_num_queries(4):
        response = signed_in.get(reverse("skills"))
    assert response.text.count('<th scope="row">') == count


@pytest.mark.parametrize("extra", [0, 10])
def test_a_submission_costs_the_same_queries_whatever_the_number_of_questions(
    signed_in, qc, engineer, extra
):
    for i in range(extra):
        question = QuestionFactory(
            quiz=qc.quiz, position=10 + i, skill=SkillFactory(slug=f"extra-{i}")
        )
        ChoiceFactory(question=question, position=1, text="Yes", correct=True)
        ChoiceFactory(question=question, position=2, text="No")
    # One skill re-verified, the others new: both ways of writing a record.
    SkillRecordFactory(engineer=engineer, skill=qc.questions[0].skill, level=1)
    attempt = start(signed_in, qc)
    # The session, user, engineer and attempt; the grade; the item analysis rows (one
    # INSERT); the skills, their insert, lock and update; the course's lessons (the
    # quiz is the one just passed): 11 statements, against issue 12's bound of 12.
    # (The test's transaction makes the submission's own a savepoint: SAVEPOINT and
    # RELEASE are the test's, not the request's, and are not counted.)
    with CaptureQueriesContext(connection) as captured:
        response = signed_in.post(reverse("attempt", args=[attempt.pk]), form_data(attempt))
    statements = [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 12, "\n".join(statements)
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert (attempt.score, attempt.passed) == (100, True)
    assert set(SkillRecord.objects.filter(engineer=engineer).values_list("level", "evidence")) == {
        (3, attempt.pk)
    }
    assert SkillRecord.objects.filter(engineer=engineer).count() == 2 + extra


def test_a_submission_that_completes_the_course_folds_it_into_kept_readiness(
    signed_in, qc, engineer, django_assert_max_num_queries
):
    for lesson in qc.lessons:
        LessonProgress.objects.create(engineer=engineer, lesson=lesson, read_at=timezone.now())
    assert release_readiness(qc.release)["complete"] == 0  # counted and kept
    attempt = start(signed_in, qc)
    # The statements above (and the savepoint), then the assignment completed and
    # folded into the kept counts (the snapshot locked with the release's SDK, the
    # engineer's row, the snapshot).
    with django_assert_max_num_queries(16):
        response = signed_in.post(reverse("attempt", args=[attempt.pk]), form_data(attempt))
    assert response.status_code == 302
    assignment = Assignment.objects.get(pk=qc.assignment.pk)
    assert assignment.status == Assignment.Status.COMPLETE
    assert assignment.completed_at is not None and assignment.started_at is not None
    kept = release_readiness(qc.release)
    assert kept["complete"] == 1
    assert kept == release_readiness_fresh(qc.release)
