"""The quiz pages and the course API with the new kinds, and the grading queue:
the key stays out of everything an engineer or a plain token reads before
submission; the queue is for the engineer's leads and the grader role."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory
from tests.training.question_bank import RUBRIC, SLUG, bank_course, right_answers
from training.services.attempts import attempt_start, attempt_submit

pytestmark = pytest.mark.django_db

# Strings only the key holds (accepted answers, value, order, pairs, rubric, explanations).
KEY_STRINGS = ["token*expired", "3000", 'Bad token"', "EXPLAIN-TF", RUBRIC, "fraction", '"correct"']


@pytest.fixture
def bank(engineer):
    return bank_course(engineer=engineer)


def _post(client, attempt, answers):
    data = {f"q{field}": values for field, values in answers.items()}
    return client.post(f"/attempts/{attempt.pk}/", data)


def test_the_quiz_page_of_every_kind_holds_no_key(client, engineer, bank):
    _, quiz, _ = bank
    attempt = attempt_start(engineer=engineer, quiz=quiz)
    client.force_login(engineer.user)
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "ConnectException" in page and 'class="highlight"' in page  # the log, highlighted
    assert "Collect the log" in page and "Rate limited" in page
    for secret in KEY_STRINGS:
        assert secret not in page, secret


def test_the_course_api_holds_no_key_without_the_catalog_scope(token_client, bank):
    body = token_client("assignments").get(f"/api/v1/courses/{SLUG}/").content.decode()
    assert "basics" in body and "ConnectException" in body
    for secret in KEY_STRINGS:
        assert secret not in body, secret
    full = token_client("catalog").get(f"/api/v1/courses/{SLUG}/").json()
    fields = [q.get("answer_fields") for q in full["quiz"]["questions"]]
    assert fields[2]["value"] == 3000 and fields[6]["rubric"] == RUBRIC
    assert full["quiz"]["slots"][0] == {"question": 0}


def test_a_malformed_answer_is_a_400_form_naming_it(client, engineer, bank):
    _, quiz, _ = bank
    attempt = attempt_start(engineer=engineer, quiz=quiz)
    answers = right_answers(attempt)
    ordering = next(q for q in attempt.snapshot["questions"] if q["kind"] == "ordering")
    answers[str(ordering["id"])] = ["1", "1", "\x00"]
    client.force_login(engineer.user)
    response = _post(client, attempt, answers)
    assert response.status_code == 400
    assert "Remove the NUL characters" in response.content.decode()


def test_an_essay_attempt_shows_awaiting_grading_and_no_key(client, engineer, bank):
    _, quiz, _ = bank
    attempt = attempt_start(engineer=engineer, quiz=quiz)
    client.force_login(engineer.user)
    assert _post(client, attempt, right_answers(attempt)).status_code == 302
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "Awaiting grading" in page
    assert RUBRIC not in page and "EXPLAIN-TF" not in page and "correct answer" not in page
    quiz_page = client.get(f"/assignments/{bank[2].pk}/quiz/").content.decode()
    assert "awaiting grading" in quiz_page


@pytest.fixture
def awaiting(engineer, bank):
    attempt = attempt_start(engineer=engineer, quiz=bank[1])
    return attempt_submit(attempt=attempt, answers=right_answers(attempt))


def test_the_lead_grades_from_the_queue_and_the_engineer_passes(client, lead, engineer, awaiting):
    client.force_login(lead)
    queue = client.get("/grading/").content.decode()
    assert "Alice Chen" in queue
    page = client.get(f"/grading/{awaiting.pk}/").content.decode()
    assert RUBRIC.split("**")[0] in page
    assert "Collect the log" not in page and "EXPLAIN-TF" not in page  # no other question
    essay = next(q for q in awaiting.snapshot["questions"] if q["kind"] == "essay")
    bad = client.post(f"/grading/{awaiting.pk}/", {f"q{essay['id']}-score": "lots"})
    assert bad.status_code == 400
    done = client.post(
        f"/grading/{awaiting.pk}/",
        {f"q{essay['id']}-score": "90", f"q{essay['id']}-feedback": "Good."},
    )
    assert done.status_code == 302
    awaiting.refresh_from_db()
    assert awaiting.passed and awaiting.graded_by == lead
    assert "Nothing awaits grading" in client.get("/grading/").content.decode()
    client.force_login(engineer.user)
    result = client.get(f"/attempts/{awaiting.pk}/").content.decode()
    assert "Good." in result and "Passed" in result


def test_another_lead_and_the_engineer_cannot_grade(client, outsider, engineer, awaiting):
    client.force_login(outsider.team.leads.get())
    assert "Alice" not in client.get("/grading/").content.decode()
    assert client.get(f"/grading/{awaiting.pk}/").status_code == 404
    client.force_login(engineer.user)
    assert client.get("/grading/").status_code == 404
    assert client.get(f"/grading/{awaiting.pk}/").status_code == 404


def test_the_grader_role_grades_any_team(client, awaiting):
    grader = UserFactory(username="gina")
    grader.user_permissions.add(Permission.objects.get(codename="grade_essays"))
    client.force_login(grader)
    assert client.get(f"/grading/{awaiting.pk}/").status_code == 200
